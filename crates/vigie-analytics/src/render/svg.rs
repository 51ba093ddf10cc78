//! Hand-written SVG charts: deterministic text, classes for the colours (the page's style sheet
//! gives them), no script. Every label is escaped.

use std::fmt::Write;

/// Escapes text for HTML and SVG content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The charts' style (colours from `--in`, `--out`, `--backlog`, `--good`, `--warn`, `--bad`,
/// `--muted`, `--ink`, `--line`): for every page that shows them.
pub const STYLE: &str = r#"
figure { margin: 0; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
svg { width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
svg text.value { fill: var(--ink); }
.grid { stroke: var(--line); }
.line { fill: none; stroke-width: 1.6; }
.line.inflow { stroke: var(--in); } .line.outflow { stroke: var(--out); } .line.backlog { stroke: var(--backlog); stroke-width: 2.2; }
.bar.age { fill: var(--in); } .bar.good { fill: var(--good); } .bar.warn { fill: var(--warn); } .bar.bad { fill: var(--bad); }
.track { fill: #eef1f5; }
.key::before { content: ""; display: inline-block; width: 12px; height: 3px; margin: 0 4px 3px 12px; vertical-align: middle; }
.line.s0 { stroke: var(--in); } .line.s1 { stroke: var(--backlog); } .line.s2 { stroke: var(--out); } .line.s3 { stroke: var(--warn); }
.band { stroke: none; opacity: 0.15; } .band.s0 { fill: var(--in); } .band.s1 { fill: var(--backlog); } .band.s2 { fill: var(--out); } .band.s3 { fill: var(--warn); }
.reference { stroke: var(--ink); stroke-dasharray: 5 4; stroke-width: 1.2; }
.key.s0::before { background: var(--in); } .key.s1::before { background: var(--backlog); } .key.s2::before { background: var(--out); } .key.s3::before { background: var(--warn); }
.key.inflow::before { background: var(--in); } .key.outflow::before { background: var(--out); } .key.backlog::before { background: var(--backlog); }
"#;

/// One line of a line chart.
pub struct Series<'a> {
    pub name: &'a str,
    /// The CSS class of its stroke (`inflow`, `outflow`, `backlog`…).
    pub class: &'a str,
    pub values: Vec<f64>,
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// A line chart of series over the same x labels (days), with a y axis from 0 and a legend.
/// The x axis shows at most 8 labels.
pub fn line_chart(title: &str, x_labels: &[String], series: &[Series<'_>]) -> String {
    let bands: Vec<Band<'_>> = series
        .iter()
        .map(|s| Band { name: s.name, class: s.class, values: s.values.clone(), range: Vec::new() })
        .collect();
    band_chart(title, x_labels, &bands, None)
}

/// A vertical bar chart, one bar per label, the value written above each.
pub fn bar_chart(title: &str, bars: &[(String, f64)], class: &str) -> String {
    let max = bars.iter().map(|b| b.1).fold(0.0f64, f64::max);
    let top = nice_ceiling(max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: f64| TOP + plot_h * (1.0 - v / top);
    let slot = plot_w / bars.len().max(1) as f64;
    let mut svg = open_svg(title);
    axis_y(&mut svg, top, &y);
    for (i, (label, value)) in bars.iter().enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.15;
        let _ = write!(
            svg,
            r#"<rect class="bar {}" x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{}: {}</title></rect>"#,
            escape(class),
            y(*value),
            slot * 0.7,
            TOP + plot_h - y(*value),
            escape(label),
            short(*value)
        );
        let _ = write!(
            svg,
            r#"<text class="value" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x + slot * 0.35,
            y(*value) - 4.0,
            short(*value)
        );
        let _ = write!(
            svg,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x + slot * 0.35,
            HEIGHT - 8.0,
            escape(label)
        );
    }
    svg.push_str("</svg>");
    format!("<figure>{svg}<figcaption>{}</figcaption></figure>", escape(title))
}

/// Horizontal bars of shares (0 to 1), one row per label, the percentage written at the end;
/// a `None` share is drawn as "no decided ticket".
pub fn share_bars(title: &str, rows: &[(String, Option<f64>)]) -> String {
    let row_h = 22.0;
    let label_w = 220.0;
    let bar_w = WIDTH - label_w - 70.0;
    let height = TOP + row_h * rows.len() as f64 + 8.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0}" role="img" aria-label="{}">"#,
        escape(title)
    );
    for (i, (label, share)) in rows.iter().enumerate() {
        let top = TOP + row_h * i as f64;
        let _ = write!(
            svg,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            top + 14.0,
            escape(label)
        );
        let _ = write!(svg, r#"<rect class="track" x="{label_w}" y="{top:.1}" width="{bar_w:.1}" height="16"/>"#);
        match share {
            Some(share) => {
                let class = if *share >= 0.9 {
                    "good"
                } else if *share >= 0.75 {
                    "warn"
                } else {
                    "bad"
                };
                let _ = write!(
                    svg,
                    r#"<rect class="bar {class}" x="{label_w}" y="{top:.1}" width="{:.1}" height="16"><title>{}: {:.1} %</title></rect>"#,
                    bar_w * share.clamp(0.0, 1.0),
                    escape(label),
                    share * 100.0
                );
                let _ = write!(
                    svg,
                    r#"<text class="value" x="{:.1}" y="{:.1}">{:.1} %</text>"#,
                    label_w + bar_w + 6.0,
                    top + 13.0,
                    share * 100.0
                );
            }
            None => {
                let _ = write!(
                    svg,
                    r#"<text class="value" x="{:.1}" y="{:.1}">none decided</text>"#,
                    label_w + bar_w + 6.0,
                    top + 13.0
                );
            }
        }
    }
    svg.push_str("</svg>");
    format!("<figure>{svg}<figcaption>{}</figcaption></figure>", escape(title))
}

/// One line of a band chart: a central value with a shaded range around it.
pub struct Band<'a> {
    pub name: &'a str,
    /// The CSS class of its stroke and shading (`s0` to `s3`).
    pub class: &'a str,
    pub values: Vec<f64>,
    /// The range per point, (low, high).
    pub range: Vec<(f64, f64)>,
}

/// A line chart of bands over the same x labels, with a y axis from 0 and a legend; optional
/// horizontal reference line (a threshold).
pub fn band_chart(title: &str, x_labels: &[String], bands: &[Band<'_>], reference: Option<(&str, f64)>) -> String {
    let n = x_labels.len();
    let max = bands
        .iter()
        .flat_map(|b| b.values.iter().copied().chain(b.range.iter().map(|r| r.1)))
        .chain(reference.map(|r| r.1))
        .fold(0.0f64, f64::max);
    let top = nice_ceiling(max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |i: usize| LEFT + if n > 1 { plot_w * i as f64 / (n - 1) as f64 } else { plot_w / 2.0 };
    let y = |v: f64| TOP + plot_h * (1.0 - v / top);
    let mut svg = open_svg(title);
    axis_y(&mut svg, top, &y);
    axis_x(&mut svg, x_labels, &x);
    for b in bands {
        // The range where it is known (a forecast's starts where the past ends).
        let known: Vec<(usize, f64, f64)> = b
            .range
            .iter()
            .enumerate()
            .filter(|(_, r)| r.0.is_finite() && r.1.is_finite())
            .map(|(i, r)| (i, r.0, r.1))
            .collect();
        if !known.is_empty() {
            let mut points = String::new();
            for (i, low, _) in &known {
                let _ = write!(points, "{:.1},{:.1} ", x(*i), y(*low));
            }
            for (i, _, high) in known.iter().rev() {
                let _ = write!(points, "{:.1},{:.1} ", x(*i), y(*high));
            }
            let _ = write!(svg, r#"<polygon class="band {}" points="{}"/>"#, escape(b.class), points.trim_end());
        }
    }
    if let Some((label, value)) = reference {
        let _ = write!(
            svg,
            r#"<line class="reference" x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}"><title>{}: {}</title></line>"#,
            WIDTH - RIGHT,
            y(value),
            y(value),
            escape(label),
            short(value)
        );
    }
    for b in bands {
        // A value that is not a number breaks the line (nothing known there).
        let mut i = 0;
        while i < b.values.len() {
            let run = b.values[i..].iter().take_while(|v| v.is_finite()).count();
            if run > 0 {
                let mut points = String::new();
                for (j, v) in b.values[i..i + run].iter().enumerate() {
                    let _ = write!(points, "{:.1},{:.1} ", x(i + j), y(*v));
                }
                let _ = write!(
                    svg,
                    r#"<polyline class="line {}" points="{}"><title>{}</title></polyline>"#,
                    escape(b.class),
                    points.trim_end(),
                    escape(b.name)
                );
            }
            i += run + 1;
        }
    }
    svg.push_str("</svg>");
    let legend: String =
        bands.iter().map(|b| format!(r#"<span class="key {}">{}</span>"#, escape(b.class), escape(b.name))).collect();
    format!(r#"<figure>{svg}<figcaption>{} {legend}</figcaption></figure>"#, escape(title))
}

fn open_svg(title: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}">"#,
        escape(title)
    )
}

/// At most 8 labels along the x axis, evenly spaced.
fn axis_x(svg: &mut String, labels: &[String], x: &dyn Fn(usize) -> f64) {
    let step = labels.len().div_ceil(8).max(1);
    for i in (0..labels.len()).step_by(step) {
        let _ = write!(
            svg,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x(i),
            HEIGHT - 8.0,
            escape(&labels[i])
        );
    }
}

/// Grid lines and labels from 0 to the top in round steps: fifths of a top of 2.5 or 5 × 10^k,
/// quarters otherwise.
fn axis_y(svg: &mut String, top: f64, y: &dyn Fn(f64) -> f64) {
    let mantissa = top / 10f64.powf(top.log10().floor());
    let steps = if (mantissa - 2.5).abs() < 1e-9 || (mantissa - 5.0).abs() < 1e-9 { 5 } else { 4 };
    for k in 0..=steps {
        let v = top * k as f64 / steps as f64;
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/>"#,
            WIDTH - RIGHT,
            y(v),
            y(v)
        );
        let _ = write!(
            svg,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            y(v) + 4.0,
            short(v)
        );
    }
}

/// The smallest of 1, 2, 2.5, 5 × 10^k at or above `max` (1 for an empty chart).
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|c| *c >= max).unwrap_or(10.0 * magnitude)
}

/// 1234 → "1.2k", 12 → "12", 0.5 → "0.5".
fn short(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_axes_are_round() {
        assert_eq!(escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(nice_ceiling(173.0), 200.0);
        assert_eq!(nice_ceiling(2400.0), 2500.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
        let chart = bar_chart("ages", &[("<4h".to_owned(), 3.0)], "age");
        assert!(chart.contains("&lt;4h") && !chart.contains("<4h"));
    }
}
