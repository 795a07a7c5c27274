import Foundation

/// How numbers and tokens are printed, in pictures and on the command line alike, so that what a
/// picture shows is the computed value to the printed precision.
public enum Printed {
    /// A probability with three decimals: `0.412`.
    public static func probability(_ value: Double) -> String { fixed(value, decimals: 3) }

    /// A metric value (a logit difference, a probability) with three decimals: `-1.250`.
    public static func metric(_ value: Double) -> String { fixed(value, decimals: 3) }

    /// `value` with `decimals` digits after the point ("nan" when it is not a number).
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        let text = String(format: "%.\(decimals)f", value)
        // "-0.000" reads as a sign that is not there.
        return text.allSatisfy({ "-0.".contains($0) }) && text.hasPrefix("-") ? String(text.dropFirst()) : text
    }

    /// A token as shown: newlines, tabs and carriage returns made visible as `\n`, `\t`, `\r`,
    /// other control characters as `\x01`.
    public static func token(_ text: String) -> String {
        var shown = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": shown += "\\n"
            case "\t": shown += "\\t"
            case "\r": shown += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    shown += String(format: "\\x%02x", scalar.value)
                } else {
                    shown.unicodeScalars.append(scalar)
                }
            }
        }
        return shown
    }

    /// A token as shown inside a cell of `limit` characters: cut with "…" when longer.
    public static func cellToken(_ text: String, limit: Int = 10) -> String {
        let shown = token(text)
        return shown.count <= limit ? shown : String(shown.prefix(limit - 1)) + "…"
    }
}
