import Foundation

/// Colours for values: a sequential scale for probabilities and a diverging one for metrics.
public enum ColorScale {
    /// White (0) to deep blue (1); values outside [0, 1] are clamped.
    public static func sequential(_ t: Double) -> RGB {
        RGB.mix(RGB(247, 251, 255), RGB(8, 48, 107), clamped(t))
    }

    /// Red (-1) through white (0) to blue (1); values outside [-1, 1] are clamped.
    public static func diverging(_ t: Double) -> RGB {
        let t = max(-1, min(1, t.isFinite ? t : 0))
        return t < 0 ? RGB.mix(RGB(255, 255, 255), RGB(178, 24, 43), -t) : RGB.mix(RGB(255, 255, 255), RGB(33, 102, 172), t)
    }

    static func clamped(_ t: Double) -> Double { t.isFinite ? max(0, min(1, t)) : 0 }

    /// An sRGB colour.
    public struct RGB: Sendable, Equatable {
        public var red: Int, green: Int, blue: Int

        public init(_ red: Int, _ green: Int, _ blue: Int) {
            self.red = red
            self.green = green
            self.blue = blue
        }

        static func mix(_ a: RGB, _ b: RGB, _ t: Double) -> RGB {
            func channel(_ x: Int, _ y: Int) -> Int { Int((Double(x) + (Double(y) - Double(x)) * t).rounded()) }
            return RGB(channel(a.red, b.red), channel(a.green, b.green), channel(a.blue, b.blue))
        }

        /// `#rrggbb`.
        public var hex: String { String(format: "#%02x%02x%02x", red, green, blue) }

        /// Black or white, whichever reads better on this colour.
        public var textColor: String {
            (0.299 * Double(red) + 0.587 * Double(green) + 0.114 * Double(blue)) > 150 ? "#111111" : "#ffffff"
        }
    }
}
