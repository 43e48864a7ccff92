import Foundation

extension TrainingReport {
    /// `--eval_speech_every`'s section: WER/CER and speaker similarity over steps, and one row per evaluation with
    /// the checkpoint saved at that step (if any) and the best one marked — the lowest WER, or without an ASR
    /// model the highest similarity.
    func speechSection() -> String? {
        let wer = metrics.points("speech_wer"), cer = metrics.points("speech_cer")
        let similarity = metrics.points("speech_similarity")
        guard !(wer.isEmpty && similarity.isEmpty) else { return nil }
        var charts: [String] = []
        if !wer.isEmpty {
            charts.append(SVGChart(title: "Word / character error rate (ASR transcript vs text)", series: [
                .init(name: "WER", color: "#dc2626", points: wer),
                .init(name: "CER", color: "#d97706", points: cer, dashed: true),
            ].filter { !$0.points.isEmpty }).render())
        }
        if !similarity.isEmpty {
            charts.append(SVGChart(title: "Speaker similarity (x-vector cosine with the reference)", series: [
                .init(name: "similarity", color: "#059669", points: similarity),
            ]).render())
        }
        let steps = Set((wer + similarity).map { Int($0.x) }).sorted()
        func value(_ points: [(x: Double, y: Double)], _ step: Int) -> Double? {
            points.last { Int($0.x) == step && $0.y.isFinite }?.y
        }
        let best: Int? = wer.isEmpty
            ? steps.max { (value(similarity, $0) ?? -.infinity) < (value(similarity, $1) ?? -.infinity) }
            : steps.min { (value(wer, $0) ?? .infinity) < (value(wer, $1) ?? .infinity) }
        let rows = steps.map { step -> [String] in
            let checkpoint = FileManager.default.fileExists(atPath: Checkpoint.folder(outputDir, step: step).path)
                ? "checkpoint-\(step)" : "–"
            let json = "\(SpeechEvalHook.folderName)/" + String(format: "step_%06d", step) + "/speech_eval.json"
            return ["\(step)" + (step == best ? " ★ best" : ""), checkpoint,
                    value(wer, step).map { String(format: "%.4f", $0) } ?? "–",
                    value(cer, step).map { String(format: "%.4f", $0) } ?? "–",
                    value(similarity, step).map { String(format: "%.4f", $0) } ?? "–", json]
        }
        let note = "<p class=\"note\">Each evaluation speaks the same \(config.evalSpeechSentences) held-out "
            + "sentence(s) with the same seeds; ★ marks the lowest WER (without --asr_model, the highest similarity). "
            + "Transcripts, per-sentence scores and wavs: the JSON of each row.</p>"
        return section("Speech quality", grid(charts)
            + HTML.table(["step", "checkpoint", "WER", "CER", "similarity", "details"], rows, numericFrom: 2) + note)
    }
}
