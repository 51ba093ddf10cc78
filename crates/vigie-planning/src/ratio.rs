//! Exact decimal ratios: the staffing parameters (`0.3`, `0.85`) as written, so that a
//! ceiling such as `raw / (1 − 0.3)` is exact (`21 / 0.7` is 30, where binary floats say 31).

use std::fmt;

/// A non-negative decimal number kept as a fraction `num / den` (den a power of ten).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub num: u128,
    pub den: u128,
}

/// Why a number is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatioError(pub String);

impl fmt::Display for RatioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Ratio {
    /// `12`, `0.85`, `.5`: at most 12 decimals; no sign, no exponent.
    pub fn parse(text: &str) -> Result<Ratio, RatioError> {
        let refuse = || RatioError(format!("`{text}` is not a decimal number such as 0.85"));
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if (whole.is_empty() && fraction.is_empty())
            || fraction.len() > 12
            || whole.len() > 12
            || !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit())
        {
            return Err(refuse());
        }
        let den = 10u128.pow(fraction.len() as u32);
        let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| refuse())? };
        let fraction: u128 = if fraction.is_empty() { 0 } else { fraction.parse().map_err(|_| refuse())? };
        Ok(Ratio { num: whole * den + fraction, den })
    }

    pub fn of_integer(n: u128) -> Ratio {
        Ratio { num: n, den: 1 }
    }

    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    pub fn is_zero(self) -> bool {
        self.num == 0
    }
}

/// `ceil(a / b)` for integers, `b > 0`.
pub fn ceil_div(a: u128, b: u128) -> u128 {
    a.div_ceil(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_kept_exactly() {
        assert_eq!(Ratio::parse("0.3"), Ok(Ratio { num: 3, den: 10 }));
        assert_eq!(Ratio::parse("0.85"), Ok(Ratio { num: 85, den: 100 }));
        assert_eq!(Ratio::parse("300"), Ok(Ratio { num: 300, den: 1 }));
        assert_eq!(Ratio::parse(".5"), Ok(Ratio { num: 5, den: 10 }));
        for bad in ["", ".", "-1", "1e3", "0.1.2", "abc", "1,5"] {
            assert!(Ratio::parse(bad).is_err(), "{bad}");
        }
        // 21 / (1 - 0.3) = 30 exactly.
        let s = Ratio::parse("0.3").expect("valid");
        assert_eq!(ceil_div(21 * s.den, s.den - s.num), 30);
    }
}
