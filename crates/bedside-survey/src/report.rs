//! A manager's report of an [`AnalyticsReport`], as Markdown or aligned plain text.
//!
//! The report lists, overall, every question's answer count, mean, top/middle/bottom box
//! shares, NPS with its 95% interval and CSAT, then every scale's mean and band counts, then one
//! table per breakdown with NPS and top-box share per cell. Withheld cells say so and show no
//! figures. Free-text answers never appear.

use crate::analytics::{AnalyticsReport, CellReport, ItemStats};
use crate::definition::SurveyDefinition;
use bedside_core::Language;
use std::fmt::Write;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// GitHub-flavoured Markdown with pipe tables.
    Markdown,
    /// Plain text with space-aligned columns.
    Text,
}

/// Renders a report in the definition's primary language.
pub fn render(definition: &SurveyDefinition, report: &AnalyticsReport, format: Format) -> String {
    let language = definition
        .title
        .primary_language()
        .cloned()
        .unwrap_or_else(crate::text::english);
    render_in(definition, report, format, &language)
}

/// Renders a report with item wording in `language` (with fallback).
// Not split: the report reads top to bottom as the document it writes.
pub fn render_in(
    definition: &SurveyDefinition,
    report: &AnalyticsReport,
    format: Format,
    language: &Language,
) -> String {
    let mut out = String::new();
    let heading = |out: &mut String, level: usize, text: &str| match format {
        Format::Markdown => {
            let _ = writeln!(out, "{} {text}\n", "#".repeat(level));
        }
        Format::Text => {
            let _ = writeln!(
                out,
                "{text}\n{}\n",
                if level == 1 { "=" } else { "-" }.repeat(text.chars().count())
            );
        }
    };
    heading(
        &mut out,
        1,
        &format!("{}: manager report", definition.title_in(language)),
    );
    let total = report.overall.responses.map_or_else(
        || format!("fewer than {}", report.min_cell_size),
        |n| n.to_string(),
    );
    let _ = writeln!(
        out,
        "Survey `{}` version {}. Responses: {total}. Groups with fewer than {} responses are withheld.\n",
        report.survey.id, report.survey.version, report.min_cell_size
    );

    heading(&mut out, 2, "Overall");
    if report.overall.is_suppressed() {
        let _ = writeln!(out, "Withheld: too few responses.\n");
    } else {
        let label = |id: &str| item_label(definition, id, language);
        let mut rows = vec![vec![
            "Question".to_string(),
            "n".into(),
            "Mean".into(),
            "Top".into(),
            "Middle".into(),
            "Bottom".into(),
            "NPS (95% CI)".into(),
            "CSAT".into(),
        ]];
        for s in &report.overall.items {
            rows.push(item_row(&label(&s.item), s));
        }
        table(&mut out, &rows, format);

        if !report.overall.scales.is_empty() {
            heading(&mut out, 3, "Scales");
            let mut rows = vec![vec![
                "Scale".to_string(),
                "n".into(),
                "Mean".into(),
                "Bands".into(),
            ]];
            for s in &report.overall.scales {
                let title = definition
                    .scales
                    .iter()
                    .find(|x| x.id == s.scale)
                    .map_or(s.scale.as_str(), |x| x.title.get(language));
                let bands = s
                    .bands
                    .iter()
                    .map(|(b, n)| format!("{b} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                rows.push(vec![
                    title.to_string(),
                    s.scored.to_string(),
                    s.mean.map_or_else(String::new, |m| format!("{m:.2}")),
                    bands,
                ]);
            }
            table(&mut out, &rows, format);
        }
    }

    for b in &report.breakdowns {
        heading(&mut out, 2, &format!("By {}", b.dimensions.join(" and ")));
        let boxed: Vec<&str> = report
            .overall
            .items
            .iter()
            .filter(|s| s.boxes.is_some() && s.nps.is_none())
            .map(|s| s.item.as_str())
            .collect();
        let has_nps = report.overall.items.iter().any(|s| s.nps.is_some());
        let mut header: Vec<String> = b.dimensions.clone();
        header.push("n".into());
        if has_nps {
            header.push("NPS (95% CI)".into());
        }
        header.extend(boxed.iter().map(|id| format!("Top box: {id}")));
        let mut rows = vec![header];
        for cell in &b.cells {
            rows.push(cell_row(cell, &boxed, has_nps, report.min_cell_size));
        }
        table(&mut out, &rows, format);
    }
    out
}

fn item_label(definition: &SurveyDefinition, id: &str, language: &Language) -> String {
    let text = definition.walk().into_iter().find_map(|i| {
        if i.id == id {
            return Some(i.text_in(language).to_string());
        }
        match &i.kind {
            crate::definition::ItemKind::LikertMatrix { rows, .. } => {
                rows.iter().find(|r| r.id == id).map(|r| {
                    format!(
                        "{} {}",
                        i.text_in(language).trim_end_matches('…'),
                        r.text.get(language)
                    )
                })
            }
            _ => None,
        }
    });
    let text = text.unwrap_or_else(|| id.to_string());
    let short: String = text.chars().take(60).collect();
    if short.chars().count() < text.chars().count() {
        format!("{}…", short.trim_end())
    } else {
        short
    }
}

fn pct(x: f64) -> String {
    format!("{x:.0}%")
}

fn nps_text(s: &ItemStats) -> String {
    s.nps.map_or_else(String::new, |n| {
        format!("{:+.0} ({:+.0} to {:+.0})", n.score, n.ci_low, n.ci_high)
    })
}

fn item_row(label: &str, s: &ItemStats) -> Vec<String> {
    let (top, middle, bottom) = s.boxes.map_or_else(
        || (String::new(), String::new(), String::new()),
        |b| (pct(b.top), pct(b.middle), pct(b.bottom)),
    );
    vec![
        label.to_string(),
        s.answered.to_string(),
        s.mean.map_or_else(String::new, |m| format!("{m:.2}")),
        top,
        middle,
        bottom,
        nps_text(s),
        s.csat.map_or_else(String::new, pct),
    ]
}

fn cell_row(cell: &CellReport, boxed: &[&str], has_nps: bool, k: u64) -> Vec<String> {
    let mut row: Vec<String> = cell.key.iter().map(|(_, v)| v.clone()).collect();
    let Some(n) = cell.responses else {
        row.push(format!("<{k}"));
        if has_nps {
            row.push("withheld".into());
        }
        row.extend(boxed.iter().map(|_| "withheld".to_string()));
        return row;
    };
    row.push(n.to_string());
    if has_nps {
        let nps = cell
            .items
            .iter()
            .find(|s| s.nps.is_some())
            .map_or_else(|| "withheld".to_string(), nps_text);
        row.push(nps);
    }
    for id in boxed {
        row.push(
            cell.item(id)
                .and_then(|s| s.boxes)
                .map_or_else(|| "withheld".to_string(), |b| pct(b.top)),
        );
    }
    row
}

fn table(out: &mut String, rows: &[Vec<String>], format: Format) {
    let Some(header) = rows.first() else {
        return;
    };
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
                .max(3)
        })
        .collect();
    let pad = |s: &str, w: usize, right: bool| {
        let fill = " ".repeat(w.saturating_sub(s.chars().count()));
        if right {
            format!("{fill}{s}")
        } else {
            format!("{s}{fill}")
        }
    };
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, s)| pad(s, widths[c], c > 0 && i > 0))
            .collect();
        match format {
            Format::Markdown => {
                let _ = writeln!(out, "| {} |", cells.join(" | "));
                if i == 0 {
                    let rule: Vec<String> = widths
                        .iter()
                        .enumerate()
                        .map(|(c, w)| {
                            if c == 0 {
                                "-".repeat(*w)
                            } else {
                                format!("{}:", "-".repeat(w.saturating_sub(1)))
                            }
                        })
                        .collect();
                    let _ = writeln!(out, "| {} |", rule.join(" | "));
                }
            }
            Format::Text => {
                let _ = writeln!(out, "{}", cells.join("  ").trim_end());
            }
        }
    }
    out.push('\n');
}
