//! The overview: thumbs, CSAT, votes and daily satisfaction of a period, with
//! the same figures as `GET /v1/analytics/overview`.

use axum::extract::State;
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    PageQuery, SignedIn, WebError, bot_select, bots, chart, date_range,
    layout::{self, Section},
    non_empty, query_string,
};
use crate::{
    app::App,
    domain::{
        Timestamp,
        analytics::{Filters, GroupBy, Period, ReasonGrouping, ThumbFigure},
        feedback::FeedbackType,
    },
};

/// How many reasons the overview lists.
const TOP_REASONS: usize = 5;

/// The overview's filters.
#[derive(Debug, Default, Deserialize)]
pub struct OverviewQuery {
    from: Option<String>,
    to: Option<String>,
    bot_id: Option<String>,
    variant: Option<String>,
    topic: Option<String>,
    locale: Option<String>,
}

/// The change against the previous period, coloured by whether it is good
/// news: more thumbs up is, more thumbs down is not.
fn change(figure: &ThumbFigure, more_is_better: bool) -> Markup {
    let tone = |rose: bool| if rose == more_is_better { "change better" } else { "change worse" };
    html! {
        @match figure.change_percent {
            Some(c) if c > 0.0 => span class=(tone(true)) title="against the previous period" { "▲ " (format!("{c:.1}")) "% vs previous" },
            Some(c) if c < 0.0 => span class=(tone(false)) title="against the previous period" { "▼ " (format!("{:.1}", c.abs())) "% vs previous" },
            Some(_) => span.change { "no change vs previous" },
            None => span.change { "previous period: " (figure.previous_count) },
        }
    }
}

fn percent(p: Option<f64>) -> String {
    p.map_or_else(|| "—".into(), |p| format!("{p:.1}%"))
}

/// `GET /`
pub async fn page(
    State(app): State<App>,
    session: SignedIn,
    PageQuery(q): PageQuery<OverviewQuery>,
) -> Result<Markup, WebError> {
    let bot = non_empty(q.bot_id.as_deref());
    let (variant, topic) = (non_empty(q.variant.as_deref()), non_empty(q.topic.as_deref()));
    let language = non_empty(q.locale.as_deref());
    let (from, to) = date_range(q.from.as_deref(), q.to.as_deref())?;
    let filters = Filters::parse(bot, topic, None, None, variant, None, language)?;
    let period = Period::parse(from.as_deref(), to.as_deref(), Some(&session.zone.name), Timestamp::now())?;
    let o = app.overview(&session.principal.scope(), &filters, &period).await?;
    let mut reasons = app
        .reasons(&session.principal.scope(), &filters, &period, FeedbackType::Negative, ReasonGrouping::Meaning)
        .await?;
    reasons.truncate(TOP_REASONS);
    let languages =
        app.compare(&session.principal.scope(), &filters, &period, Some(GroupBy::Locale), None).await?.groups;
    let bots = bots(&app, &session).await?;
    let first = period.days.first().map(|d| d.date.clone()).unwrap_or_default();
    let last = period.days.last().map(|d| d.date.clone()).unwrap_or_default();
    // The thumbs cards open the inbox's thumbs filter.
    let inbox = |thumbs: Option<&str>, from: &str, to: &str| {
        format!(
            "/inbox{}",
            query_string(&[
                ("thumbs", thumbs),
                ("bot_id", bot),
                ("locale", language),
                ("from", Some(from)),
                ("to", Some(to)),
            ])
        )
    };
    let csat_points: Vec<chart::Point> = o
        .csat
        .daily
        .iter()
        .map(|d| chart::Point {
            date: d.date.clone(),
            value: d.average,
            tooltip: match d.average {
                Some(a) => format!("{}: CSAT {a:.2} / 5 from {} rated conversations", d.date, d.count),
                None => format!("{}: no CSAT answers", d.date),
            },
            href: inbox(None, &d.date, &d.date),
        })
        .collect();
    let rate_points: Vec<chart::Point> = o
        .satisfaction
        .daily
        .iter()
        .map(|d| chart::Point {
            date: d.date.clone(),
            value: d.rate,
            tooltip: match d.rate {
                Some(r) => format!("{}: {r:.1}% satisfied ({} of {} thumbs up)", d.date, d.good, d.total),
                None => format!("{}: no thumbs", d.date),
            },
            href: inbox(None, &d.date, &d.date),
        })
        .collect();
    let up = &o.message_feedback.thumbs_up;
    let down = &o.message_feedback.thumbs_down;
    let body = html! {
        div.page-head {
            h1 { "Overview" }
            p.muted { (first) " to " (last) " (" (session.zone.name) "), against the " (period.days.len()) " days before." }
        }
        form.filters method="get" action="/" #overview-filters data-testid="overview-filters" role="search" aria-label="Overview filters" {
            div.field { label for="from" { "From" } input #from type="date" name="from" value=(first); }
            div.field { label for="to" { "To" } input #to type="date" name="to" value=(last); }
            div.field { label for="bot_id" { "Bot" } (bot_select(&bots, bot, false)) }
            div.field { label for="variant" { "Variant" } input #variant type="text" name="variant" value=[variant] placeholder="any"; }
            div.field { label for="topic" { "Topic" } input #topic type="text" name="topic" value=[topic] placeholder="any"; }
            (layout::locale_field(language))
            div.field.actions { button.primary type="submit" data-testid="overview-apply" { "Apply" } }
        }
        section.cards aria-label="Key figures" {
            a.card.good href=(inbox(Some("up"), &first, &last)) #card-thumbs-up data-testid="card-thumbs-up" {
                span.card-label { (layout::thumb(true)) " Thumbs up" }
                span.card-value { (up.count) }
                span.card-sub { (percent(up.percent)) " of thumbs" }
                (change(up, true))
            }
            a.card.bad href=(inbox(Some("down"), &first, &last)) #card-thumbs-down data-testid="card-thumbs-down" {
                span.card-label { (layout::thumb(false)) " Thumbs down" }
                span.card-value { (down.count) }
                span.card-sub { (percent(down.percent)) " of thumbs" }
                (change(down, false))
            }
            a.card href=(inbox(None, &first, &last)) #card-csat data-testid="card-csat" {
                span.card-label { "CSAT" }
                span.card-value { (o.csat.average.map_or_else(|| "—".into(), |a| format!("{a:.2}"))) small { " / 5" } }
                span.card-sub { (o.csat.rated_conversations) " rated conversations" }
                span.change { "previous: " (o.csat.previous_average.map_or_else(|| "—".into(), |a| format!("{a:.2}"))) }
            }
            a.card href=(inbox(None, &first, &last)) #card-votes data-testid="card-votes" {
                span.card-label { "Conversation votes" }
                span.card-value { (o.votes.upvotes) " / " (o.votes.downvotes) }
                span.card-sub { "up / down" }
                span.change { "average value: " (o.votes.average_value.map_or_else(|| "—".into(), |a| format!("{a:.1}"))) }
            }
        }
        section.panel aria-labelledby="reasons-title" data-testid="reasons-card" {
            h2 #reasons-title { "Why answers were thumbed down" }
            p.muted.small { "The reasons given most often, those that mean the same counted as one." }
            @if reasons.is_empty() {
                p.empty data-testid="reasons-empty" { "No reason given in this period." }
            } @else {
                ol.plain {
                    @for r in &reasons {
                        li data-testid="reason-item" { (r.reason) " " span.muted { "(" (r.count) ")" } }
                    }
                }
            }
        }
        section.panel aria-labelledby="languages-title" data-testid="languages-card" {
            h2 #languages-title { "Satisfaction by language" }
            p.muted.small { "Thumbs on answers per conversation language, with a 95% interval. Select one to see only it." }
            @if languages.is_empty() {
                p.empty { "No thumbs in this period." }
            } @else {
                div.table-wrap {
                    table #languages-table {
                        thead { tr { th scope="col" { "Language" } th scope="col" { "Thumbs" } th scope="col" { "Thumbs up" } th scope="col" { "Rate" } th scope="col" { "95% interval" } } }
                        tbody {
                            @for g in &languages {
                                tr data-testid="language-row" {
                                    td {
                                        @match &g.key {
                                            Some(tag) => a href=(format!("/{}", query_string(&[("bot_id", bot), ("locale", Some(tag)), ("from", Some(&first)), ("to", Some(&last))]))) { (tag) },
                                            None => span.muted { "not given" },
                                        }
                                    }
                                    td { (g.n) } td { (g.good) } td { (percent(g.rate)) }
                                    td { (percent(g.ci_low)) " – " (percent(g.ci_high)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.panel aria-labelledby="csat-title" {
            h2 #csat-title { "CSAT per day" }
            p.muted.small { "Average answer, 1 to 5. Select a day to open its conversations." }
            div.chart-wrap { (chart::line_chart("chart-csat", "CSAT per day, 1 to 5", &csat_points, chart::Axis { min: 1.0, max: 5.0, step: 1.0, suffix: "" })) }
        }
        section.panel aria-labelledby="rate-title" {
            h2 #rate-title { "Satisfaction rate per day" }
            p.muted.small { "Share of thumbs up among all thumbs on answers." }
            div.chart-wrap { (chart::line_chart("chart-satisfaction", "Satisfaction rate per day, percent", &rate_points, chart::Axis { min: 0.0, max: 100.0, step: 25.0, suffix: "%" })) }
            details {
                summary { "Show as a table" }
                div.table-wrap {
                    table #satisfaction-table {
                        thead { tr { th scope="col" { "Day" } th scope="col" { "Thumbs up" } th scope="col" { "Thumbs" } th scope="col" { "Rate" } th scope="col" { "CSAT" } } }
                        tbody {
                            @for (d, c) in o.satisfaction.daily.iter().zip(&o.csat.daily) {
                                tr {
                                    td { a href=(inbox(None, &d.date, &d.date)) { (d.date) } }
                                    td { (d.good) } td { (d.total) } td { (percent(d.rate)) }
                                    td { (c.average.map_or_else(|| "—".into(), |a| format!("{a:.2}"))) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page("Overview", Section::Overview, &session, body))
}
