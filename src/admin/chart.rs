//! Sales over time as an SVG drawn on the server (no chart library, no script): a bar per day
//! for the seats sold that day, and a line for the running total.

use chrono::NaiveDate;

pub struct ChartLabels<'a> {
    pub title: &'a str,
    pub daily: &'a str,
    pub cumulative: &'a str,
    pub empty: &'a str,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `points`: (day, seats sold that day), in date order. Days without sales between two points
/// count as zero.
pub fn sales_svg(points: &[(NaiveDate, i64)], labels: &ChartLabels) -> String {
    let (w, h, left, right, top, bottom) = (720.0_f64, 240.0_f64, 48.0, 48.0, 28.0, 36.0);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"sales-title\" class=\"chart\">\
         <title id=\"sales-title\">{}</title>",
        esc(labels.title)
    );
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        out.push_str(&format!("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></svg>", w / 2.0, h / 2.0, esc(labels.empty)));
        return out;
    };
    let days = (last.0 - first.0).num_days().max(0) as usize + 1;
    let mut daily = vec![0_i64; days];
    for (day, n) in points {
        let i = (*day - first.0).num_days().max(0) as usize;
        if let Some(slot) = daily.get_mut(i) {
            *slot += n;
        }
    }
    let mut running = 0;
    let cumulative: Vec<i64> = daily
        .iter()
        .map(|n| {
            running += n;
            running
        })
        .collect();
    let max_daily = daily.iter().copied().max().unwrap_or(0).max(1) as f64;
    let max_total = running.max(1) as f64;
    let (pw, ph) = (w - left - right, h - top - bottom);
    let slot = pw / days as f64;
    let bar = (slot * 0.8).max(1.0);
    out.push_str(&format!("<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"axis\"/>", top + ph, left + pw, top + ph));
    for (i, n) in daily.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let bh = ph * *n as f64 / max_daily;
        let day = first.0 + chrono::Duration::days(i as i64);
        out.push_str(&format!(
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\"><title>{day}: {n}</title></rect>",
            left + slot * i as f64 + (slot - bar) / 2.0,
            top + ph - bh
        ));
    }
    let line: Vec<String> = cumulative
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{:.1},{:.1}", left + slot * (i as f64 + 0.5), top + ph - ph * *t as f64 / max_total))
        .collect();
    out.push_str(&format!("<polyline class=\"total\" fill=\"none\" points=\"{}\"/>", line.join(" ")));
    out.push_str(&format!(
        "<text x=\"{left}\" y=\"{}\" class=\"label\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"label\">{}</text>",
        h - 8.0,
        first.0,
        left + pw,
        h - 8.0,
        last.0
    ));
    out.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" class=\"label\">{}: {}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"label total-label\">{}: {running}</text>",
        left,
        top - 10.0,
        esc(labels.daily),
        max_daily as i64,
        left + pw,
        top - 10.0,
        esc(labels.cumulative)
    ));
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: ChartLabels = ChartLabels { title: "Sales <per day>", daily: "Max/day", cumulative: "Total", empty: "No sale yet" };

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn bars_per_day_and_a_running_total() {
        let svg = sales_svg(&[(d("2027-01-01"), 2), (d("2027-01-03"), 4)], &L);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 2, "no bar for the day without sales");
        assert!(svg.contains("<title>2027-01-03: 4</title>"));
        assert!(svg.contains("Total: 6"));
        assert!(svg.contains("Sales &lt;per day&gt;"), "labels are escaped");
        assert_eq!(svg.matches(',').count(), 3, "the total has a point per day, gaps included");
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn nothing_sold_says_so() {
        let svg = sales_svg(&[], &L);
        assert!(svg.contains("No sale yet") && !svg.contains("<rect"));
    }
}
