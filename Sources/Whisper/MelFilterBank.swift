import Foundation

/// transformers' `mel_filter_bank(norm="slaney", mel_scale="slaney")` as `WhisperFeatureExtractor` builds it
/// (0 Hz to 8 kHz, whatever the sampling rate), in f64 like numpy: (frequency bins, mel filters), row-major.
enum MelFilterBank {
    static func slaney(frequencyBins: Int, melFilters: Int, minFrequency: Double = 0, maxFrequency: Double = 8000,
                       samplingRate: Int) -> [Double] {
        let melMin = hertzToMel(minFrequency), melMax = hertzToMel(maxFrequency)
        let filterFreqs = linspace(melMin, melMax, melFilters + 2).map(melToHertz)
        let fftFreqs = linspace(0, Double(samplingRate / 2), frequencyBins)
        var bank = [Double](repeating: 0, count: frequencyBins * melFilters)
        for f in 0..<frequencyBins {
            for m in 0..<melFilters {
                // _create_triangular_filter_bank: max(0, min(down slope, up slope)), then Slaney's area normalisation.
                let down = -(filterFreqs[m] - fftFreqs[f]) / (filterFreqs[m + 1] - filterFreqs[m])
                let up = (filterFreqs[m + 2] - fftFreqs[f]) / (filterFreqs[m + 2] - filterFreqs[m + 1])
                let enorm = 2.0 / (filterFreqs[m + 2] - filterFreqs[m])
                bank[f * melFilters + m] = max(0, min(down, up)) * enorm
            }
        }
        return bank
    }

    // Slaney's scale: linear below 1 kHz, logarithmic above.
    private static let minLogHertz = 1000.0, minLogMel = 15.0

    static func hertzToMel(_ freq: Double) -> Double {
        freq >= minLogHertz ? minLogMel + Foundation.log(freq / minLogHertz) * (27.0 / Foundation.log(6.4)) : 3.0 * freq / 200.0
    }

    static func melToHertz(_ mel: Double) -> Double {
        mel >= minLogMel ? minLogHertz * Foundation.exp((Foundation.log(6.4) / 27.0) * (mel - minLogMel)) : 200.0 * mel / 3.0
    }

    /// numpy's `linspace`: start + i·step, the last point exactly `stop`.
    static func linspace(_ start: Double, _ stop: Double, _ count: Int) -> [Double] {
        guard count > 1 else { return count == 1 ? [start] : [] }
        let step = (stop - start) / Double(count - 1)
        var values = (0..<count).map { start + Double($0) * step }
        values[count - 1] = stop
        return values
    }
}
