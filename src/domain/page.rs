//! Cursor pagination: `limit` and an opaque `cursor`, answered with
//! `{"items": [...], "next_cursor": ...}`.
//!
//! A cursor is the sort key of the last item seen (a time and a tie-breaking
//! sequence number), hex-encoded so that clients treat it as opaque. Keyset
//! pagination stays stable while new rows arrive, unlike offsets.

use serde::Serialize;

use super::DomainError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// Where a page starts: after the item with this (time, seq) sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub seq: i64,
}

impl Cursor {
    pub fn encode(self) -> String {
        let raw = format!("{}:{}", self.at, self.seq);
        raw.bytes().map(|b| format!("{b:02x}")).collect()
    }

    pub fn decode(raw: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::invalid("cursor", "is not a cursor returned by this API");
        if !raw.len().is_multiple_of(2) || raw.len() > 128 {
            return Err(bad());
        }
        let bytes = (0..raw.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(raw.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
            .collect::<Result<Vec<u8>, _>>()?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (at, seq) = text.split_once(':').ok_or_else(bad)?;
        Ok(Self { at: at.parse().map_err(|_| bad())?, seq: seq.parse().map_err(|_| bad())? })
    }
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<Cursor>,
}

impl PageRequest {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, DomainError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(DomainError::invalid("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let after = cursor.filter(|c| !c.is_empty()).map(Cursor::decode).transpose()?;
        Ok(Self { limit, after })
    }

    /// The first page with the default size.
    pub fn first() -> Self {
        Self { limit: DEFAULT_LIMIT, after: None }
    }

    /// Where a newest-first keyset page starts: just after its cursor's
    /// `(time, seq)`, or above everything when it has none.
    pub fn start(&self) -> (i64, i64) {
        self.after.map_or((i64::MAX, i64::MAX), |c| (c.at, c.seq))
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass this back as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows, each with its sort key: the
    /// extra row only tells that there is more.
    pub fn from_rows(mut rows: Vec<(T, Cursor)>, limit: i64) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|(_, c)| c.encode()) } else { None };
        Self { items: rows.into_iter().map(|(t, _)| t).collect(), next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = Cursor { at: 1_700_000_000_000, seq: 42 };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn foreign_cursors_are_rejected() {
        for bad in ["zz", "abc", "6869", &"00".repeat(70)] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 50);
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(501), None).is_err());
        assert_eq!(PageRequest::parse(Some(500), Some("")).unwrap().after, None);
    }

    #[test]
    fn a_full_page_points_at_the_next() {
        let rows: Vec<(i32, Cursor)> = (0..3).map(|i| (i, Cursor { at: 10 - i as i64, seq: i as i64 })).collect();
        let page = Page::from_rows(rows.clone(), 2);
        assert_eq!(page.items, vec![0, 1]);
        assert_eq!(page.next_cursor, Some(Cursor { at: 9, seq: 1 }.encode()));
        let last = Page::from_rows(rows, 3);
        assert_eq!(last.next_cursor, None);
    }
}
