//! The shared page frame: head, navigation, landmarks, and small functions
//! for dates and badges.

use maud::{DOCTYPE, Markup, html};

use super::{SignedIn, zone::Zone};
use crate::domain::{Timestamp, access::Role};

/// The sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Inbox,
    Review,
    Gaps,
    Golden,
    Settings,
    Users,
    Audit,
}

/// The sections, and the role each needs (the routes check it; the
/// navigation shows only what the role may open).
const NAV: [(Section, &str, &str, Role); 8] = [
    (Section::Overview, "/", "Overview", Role::Viewer),
    (Section::Inbox, "/inbox", "Inbox", Role::Viewer),
    (Section::Review, "/review", "Review", Role::Reviewer),
    (Section::Gaps, "/gaps", "Knowledge gaps", Role::Viewer),
    (Section::Golden, "/golden", "Golden examples", Role::Reviewer),
    (Section::Settings, "/settings", "Settings", Role::Admin),
    (Section::Users, "/users", "Users", Role::Admin),
    (Section::Audit, "/audit", "Audit log", Role::Admin),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="referrer" content="same-origin";
            title { (title) " · Plaudit" }
            link rel="stylesheet" href="/assets/app.css";
        }
    }
}

/// A page of the signed-in dashboard.
pub fn page(title: &str, current: Section, session: &SignedIn, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    a.brand href="/" aria-label="Plaudit home" { span.logo aria-hidden="true" { "▲" } "Plaudit" }
                    nav aria-label="Main" #main-nav {
                        ul {
                            @for (section, href, label, needed) in NAV {
                                @if session.may(needed) { li {
                                    @if section == current {
                                        a href=(href) aria-current="page" data-testid={ "nav-" (href.trim_start_matches('/')) } { (label) }
                                    } @else {
                                        a href=(href) data-testid={ "nav-" (href.trim_start_matches('/')) } { (label) }
                                    }
                                } }
                            }
                        }
                    }
                    form.signout method="post" action="/logout" #logout-form {
                        (csrf_field(session))
                        a.who href="/logout" title="Signed in as" data-testid="who" { (session.who()) }
                        button.link type="submit" data-testid="sign-out" { "Sign out" }
                    }
                }
                main #main tabindex="-1" {
                    (body)
                }
                footer.foot { "Plaudit · feedback for AI assistants" (zone_picker(&session.zone)) }
            }
        }
    }
}

/// A page without navigation: sign-in and errors.
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.bare {
                main #main {
                    (body)
                }
            }
        }
    }
}

/// The hidden CSRF field every POST form carries.
pub fn csrf_field(session: &SignedIn) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// A `<time>` element showing `t` in `zone`, with the full instant in its `datetime`.
pub fn time(t: Timestamp, zone: &Zone) -> Markup {
    html! { time datetime=(t.to_rfc3339()) title={ (t.to_rfc3339()) } { (zone.datetime(t)) " " (zone.name) } }
}

/// The footer's time-zone picker: remembered for the person's browser.
fn zone_picker(zone: &Zone) -> Markup {
    html! {
        form.zone method="get" action="/time-zone" #zone-form data-testid="zone-form" {
            label for="tz" { "Times in" }
            select #tz name="tz" data-testid="zone" {
                @for name in zone.offered() {
                    option value=(name) selected[name == zone.name] { (name) }
                }
            }
            button.link type="submit" { "Set" }
        }
    }
}

/// A coloured pill for a satisfaction value.
pub fn satisfaction_badge(value: &str) -> Markup {
    let class = match value {
        "positive" => "pill good",
        "negative" => "pill bad",
        "neutral" => "pill neutral",
        _ => "pill muted",
    };
    let label = match value {
        "positive" => "Positive",
        "negative" => "Negative",
        "neutral" => "Neutral",
        _ => "Unknown",
    };
    html! { span class=(class) data-satisfaction=(value) { (label) } }
}

/// Thumbs icons as inline SVG, so they look the same without an emoji font
/// (outlines after Feather icons, MIT licence).
const THUMB_UP: &str = "M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3";
const THUMB_DOWN: &str = "M10 15v4a3 3 0 0 0 3 3l4-9V2H5.72a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3zm7-13h2.67A2.31 2.31 0 0 1 22 4v7a2.31 2.31 0 0 1-2.33 2H17";

/// A thumbs icon, hidden from screen readers (the text next to it says it).
pub fn thumb(up: bool) -> Markup {
    html! {
        svg.thumb viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false" {
            path d=(if up { THUMB_UP } else { THUMB_DOWN }) {}
        }
    }
}

/// A notice after a successful change, chosen from fixed texts (never echoed from the URL).
pub fn notice(code: Option<&str>, texts: &[(&str, &str)]) -> Markup {
    let text = code.and_then(|c| texts.iter().find(|(k, _)| *k == c)).map(|(_, t)| *t);
    html! {
        @if let Some(t) = text {
            p.notice role="status" data-testid="notice" { (t) }
        }
    }
}

/// The language filter of a page: a tag such as `fr`, which also matches
/// `fr-CA`.
pub fn locale_field(value: Option<&str>) -> Markup {
    html! {
        div.field {
            label for="locale" { "Language" }
            input #locale type="text" name="locale" value=[value] placeholder="any (e.g. fr)" size="8"
                data-testid="locale-filter";
        }
    }
}
