//! Line charts drawn as SVG on the server: one point a day, readable axes,
//! a `<title>` tooltip on every point, and each day a link.

use maud::{Markup, html};

/// One day of a chart.
#[derive(Debug, Clone)]
pub struct Point {
    /// `YYYY-MM-DD`, shown on the x axis.
    pub date: String,
    /// `None` when there is nothing to show that day: the line breaks there.
    pub value: Option<f64>,
    /// The tooltip of the point.
    pub tooltip: String,
    /// Where clicking the day goes.
    pub href: String,
}

/// The value axis.
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    pub min: f64,
    pub max: f64,
    /// Gridlines every `step`.
    pub step: f64,
    /// Appended to the tick labels (`%`, ...).
    pub suffix: &'static str,
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;
/// Most date labels on the x axis, so that they never overlap.
const MAX_X_LABELS: usize = 8;

/// Horizontal position of day `i` of `n`.
pub fn x_at(i: usize, n: usize) -> f64 {
    let plot = WIDTH - LEFT - RIGHT;
    if n <= 1 {
        return LEFT + plot / 2.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let step = plot / (n - 1) as f64;
    #[allow(clippy::cast_precision_loss)]
    let x = LEFT + step * i as f64;
    x
}

/// Vertical position of `value` on `axis` (clamped into the plot).
pub fn y_at(value: f64, axis: Axis) -> f64 {
    let plot = HEIGHT - TOP - BOTTOM;
    let span = (axis.max - axis.min).max(f64::EPSILON);
    let share = ((value - axis.min) / span).clamp(0.0, 1.0);
    TOP + plot * (1.0 - share)
}

/// Which days get a date label: at most [`MAX_X_LABELS`], evenly spread, the last always.
pub fn labelled_days(n: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let every = n.div_ceil(MAX_X_LABELS).max(1);
    let mut days: Vec<usize> = (0..n).step_by(every).collect();
    if days.last() != Some(&(n - 1)) {
        if days.len() == MAX_X_LABELS {
            days.pop();
        }
        days.push(n - 1);
    }
    days
}

/// The line, broken where a day has no value.
pub fn path(points: &[Point], axis: Axis) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match p.value {
            Some(v) => {
                let cmd = if pen_down { 'L' } else { 'M' };
                d.push_str(&format!("{cmd}{:.1} {:.1} ", x_at(i, points.len()), y_at(v, axis)));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    d.trim_end().to_owned()
}

fn tick_label(v: f64, suffix: &str) -> String {
    if (v - v.round()).abs() < 1e-9 { format!("{v:.0}{suffix}") } else { format!("{v:.1}{suffix}") }
}

fn short_date(date: &str) -> &str {
    // `2024-06-13` → `06-13`: the year is in the range picker.
    date.get(5..).unwrap_or(date)
}

/// A line chart of `points`; `label` names it for screen readers.
pub fn line_chart(id: &str, label: &str, points: &[Point], axis: Axis) -> Markup {
    let n = points.len();
    let mut ticks = Vec::new();
    let mut t = axis.min;
    while t <= axis.max + 1e-9 {
        ticks.push(t);
        t += axis.step.max(f64::EPSILON);
    }
    #[allow(clippy::cast_precision_loss)]
    let column = if n > 0 { (WIDTH - LEFT - RIGHT) / n.max(1) as f64 } else { 0.0 };
    html! {
        svg.chart id=(id) data-testid=(id) viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(label) {
            title { (label) }
            g.grid {
                @for tick in &ticks {
                    line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y_at(*tick, axis)) y2=(y_at(*tick, axis)) {}
                    text.ylabel x=(LEFT - 6.0) y=(y_at(*tick, axis) + 4.0) text-anchor="end" { (tick_label(*tick, axis.suffix)) }
                }
            }
            g.xaxis {
                @for i in labelled_days(n) {
                    text.xlabel x=(x_at(i, n)) y=(HEIGHT - 10.0) text-anchor="middle" { (short_date(&points[i].date)) }
                }
            }
            @for (i, p) in points.iter().enumerate() {
                a.day href=(p.href) data-date=(p.date) {
                    rect.hit x=(x_at(i, n) - column / 2.0) y=(TOP) width=(column) height=(HEIGHT - TOP - BOTTOM) {
                        title { (p.tooltip) }
                    }
                }
            }
            path.line d=(path(points, axis)) {}
            @for (i, p) in points.iter().enumerate() {
                @if let Some(v) = p.value {
                    a.point href=(p.href) {
                        circle cx=(x_at(i, n)) cy=(y_at(v, axis)) r="4" {
                            title { (p.tooltip) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERCENT: Axis = Axis { min: 0.0, max: 100.0, step: 25.0, suffix: "%" };

    fn point(value: Option<f64>) -> Point {
        Point { date: "2024-06-13".into(), value, tooltip: String::new(), href: String::new() }
    }

    #[test]
    fn values_map_onto_the_plot() {
        assert!((y_at(100.0, PERCENT) - TOP).abs() < 1e-9);
        assert!((y_at(0.0, PERCENT) - (HEIGHT - BOTTOM)).abs() < 1e-9);
        assert!((y_at(50.0, PERCENT) - (TOP + (HEIGHT - TOP - BOTTOM) / 2.0)).abs() < 1e-9);
        assert!((y_at(150.0, PERCENT) - TOP).abs() < 1e-9, "clamped");
        assert!((x_at(0, 3) - LEFT).abs() < 1e-9);
        assert!((x_at(2, 3) - (WIDTH - RIGHT)).abs() < 1e-9);
        assert!((x_at(0, 1) - (LEFT + (WIDTH - LEFT - RIGHT) / 2.0)).abs() < 1e-9, "a single day is centred");
    }

    #[test]
    fn the_line_breaks_on_empty_days() {
        let d = path(&[point(Some(0.0)), point(Some(100.0)), point(None), point(Some(50.0))], PERCENT);
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 1, "{d}");
        assert_eq!(path(&[point(None)], PERCENT), "");
    }

    #[test]
    fn date_labels_never_crowd() {
        assert_eq!(labelled_days(0), Vec::<usize>::new());
        assert_eq!(labelled_days(3), vec![0, 1, 2]);
        let many = labelled_days(90);
        assert!(many.len() <= MAX_X_LABELS, "{many:?}");
        assert_eq!(many.first(), Some(&0));
        assert_eq!(many.last(), Some(&89));
    }

    #[test]
    fn the_chart_escapes_and_links_every_day() {
        let mut p = point(Some(80.0));
        p.tooltip = "<script>".into();
        p.href = "/inbox?from=2024-06-13".into();
        let svg = line_chart("c", "Rate", &[p], PERCENT).into_string();
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>"));
        assert_eq!(svg.matches("href=\"/inbox?from=2024-06-13\"").count(), 2);
    }
}
