#!/usr/bin/env bash
# Synthesizes a small dialogue dataset in the seed's layout with espeak-ng, plus a --gen_from
# example folder:
#
#   OUT/dataset/{en,de}/<conversation>/segments/vibevoice-podcast-script.txt + NNN_speakerK.wav
#   OUT/dataset/_meta/                      (ignored by preprocess)
#   OUT/dataset/en/zz_broken_conversation/  (one wav missing: shows up in the skip report)
#   OUT/example_gen/segments/script.txt + segment_NNNN_speakerK.wav
#
# Usage: scripts/make_demo_data.sh OUT
set -euo pipefail
out=${1:?usage: make_demo_data.sh OUT}
command -v espeak-ng >/dev/null || { echo "espeak-ng is missing: run make setup"; exit 1; }

# Two voices per language (speaker 1, speaker 2).
voice() { # lang speaker
  case "$1:$2" in
    en:1) echo "en-us+m3" ;; en:2) echo "en-gb+f3" ;;
    de:1) echo "de+m2" ;;    de:2) echo "de+f4" ;;
  esac
}

say() { # lang speaker text wav
  espeak-ng -v "$(voice "$1" "$2")" -s 165 -w "$4" "$3"
}

# conversation LANG NAME LINE... ; lines alternate speakers 1 and 2.
conversation() {
  local lang=$1 name=$2; shift 2
  local dir="$out/dataset/$lang/$name/segments" i=0 speaker
  mkdir -p "$dir"
  : > "$dir/vibevoice-podcast-script.txt"
  for line in "$@"; do
    i=$((i + 1)); speaker=$(( (i - 1) % 2 + 1 ))
    printf '[%d]: %s\n' "$speaker" "$line" >> "$dir/vibevoice-podcast-script.txt"
    say "$lang" "$speaker" "$line" "$dir/$(printf '%03d' "$i")_speaker${speaker}.wav"
  done
}

rm -rf "$out/dataset" "$out/example_gen"
mkdir -p "$out/dataset/_meta"
echo '{"generator": "espeak-ng", "note": "folders starting with _ are ignored"}' > "$out/dataset/_meta/info.json"

conversation en coffee_shop \
  "Good morning! What can I get started for you today?" \
  "Hi, I would like a large coffee with a little milk, please." \
  "Sure thing. Would you like anything to eat with that?" \
  "Maybe a blueberry muffin, if you still have some left." \
  "We just baked a fresh batch, so you are in luck." \
  "Great. How much do I owe you?" \
  "That comes to six dollars and fifty cents." \
  "Here you go. Keep the change." \
  "Thank you very much, have a wonderful day!"
conversation en weekend_plans \
  "Do you have any plans for the weekend?" \
  "I was thinking about hiking up the hill behind the lake." \
  "That sounds lovely. Is the trail very steep?" \
  "Only the last part. The view from the top is worth it." \
  "Could I join you? I have not been outside in weeks." \
  "Of course. Let us meet at eight on Saturday morning." \
  "Eight is early, but I will be there." \
  "Bring water and a jacket, it gets windy up there." \
  "Good idea. Should I bring some sandwiches too?" \
  "Yes please, I always forget the food."
conversation en space_podcast \
  "Welcome back to the show. Today we talk about the moon." \
  "Thanks for having me. The moon is my favourite topic." \
  "Why do you think people still care about it so much?" \
  "Because it is the only other world we have walked on." \
  "Will we go back in the next ten years?" \
  "I think so. Several missions are already being built." \
  "What would you like them to find?" \
  "Water ice near the south pole would change everything." \
  "Why is that so important?" \
  "Water means air, fuel and drinks for future visitors." \
  "That is a great place to stop. Thank you for joining us."
conversation de bahnhof \
  "Entschuldigung, wann fährt der nächste Zug nach Berlin?" \
  "Der nächste Zug fährt um zehn Uhr fünfzehn von Gleis drei." \
  "Muss ich unterwegs umsteigen?" \
  "Nein, das ist eine direkte Verbindung." \
  "Wunderbar. Was kostet eine Fahrkarte?" \
  "Einfach kostet die Fahrt neunundzwanzig Euro." \
  "Kann ich mit Karte bezahlen?" \
  "Ja, natürlich. Hier ist Ihre Fahrkarte." \
  "Vielen Dank und einen schönen Tag noch."
conversation de kochen \
  "Was kochen wir heute Abend?" \
  "Ich dachte an eine Gemüsesuppe mit frischem Brot." \
  "Das klingt gut. Haben wir genug Karotten?" \
  "Ich glaube schon, aber Kartoffeln fehlen noch." \
  "Dann gehe ich schnell zum Markt." \
  "Bring bitte auch etwas Petersilie mit." \
  "Mache ich. Brauchen wir sonst noch etwas?" \
  "Vielleicht ein Stück Käse für später." \
  "Gut, ich bin in zwanzig Minuten zurück."
conversation de wetter \
  "Hast du den Wetterbericht für morgen gesehen?" \
  "Ja, es soll den ganzen Tag regnen." \
  "Schade, ich wollte eigentlich Fahrrad fahren." \
  "Am Sonntag wird es wieder sonnig." \
  "Dann verschiebe ich die Tour einfach." \
  "Gute Idee. Wir könnten morgen ins Museum gehen." \
  "Welches Museum meinst du?" \
  "Das neue Technikmuseum am Hafen." \
  "Da war ich noch nie. Lass uns das machen."

# A broken conversation: the script has one line more than there are wavs.
conversation en zz_broken_conversation \
  "This conversation is missing a recording." \
  "So the preprocessor should skip it and say why." \
  "And this line has no audio file at all."
rm "$out/dataset/en/zz_broken_conversation/segments/003_speaker1.wav"

# The --gen_from example: all lines but the last are context, the last one is generated.
gen="$out/example_gen/segments"
mkdir -p "$gen"
: > "$gen/script.txt"
lines=("Hello there, how was your trip?" "It was long, but the mountains were beautiful." "I would love to see some photos.")
for i in 0 1 2; do
  speaker=$(( i % 2 + 1 ))
  printf '[%d]: %s\n' "$speaker" "${lines[$i]}" >> "$gen/script.txt"
  [ $i -lt 2 ] && say en "$speaker" "${lines[$i]}" "$gen/$(printf 'segment_%04d' $((i + 1)))_speaker${speaker}.wav"
done
echo "[demo] dataset: $out/dataset ($(find "$out/dataset" -name '*.wav' | wc -l) wavs), gen_from: $out/example_gen"
