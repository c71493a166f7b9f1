//! The figures: the overview of a period against the previous one, A/B
//! comparisons, and the reasons people give. Counted from the rollups; the
//! domain turns the counts into figures.

use std::collections::HashMap;

use super::{App, AppError};
use crate::domain::{
    DomainError,
    access::Scope,
    analytics::{
        Comparison, Filters, GroupBy, Overview, Period, ReasonCount, ReasonGrouping, compare, group_reasons,
        group_reasons_by_meaning, groups_by_meaning, overview,
    },
    feedback::FeedbackType,
    rollup::Counting,
};

impl App {
    /// Thumbs, CSAT, votes and daily satisfaction of `period`, against the
    /// period before.
    pub async fn overview(&self, scope: &Scope, filters: &Filters, period: &Period) -> Result<Overview, AppError> {
        let (previous_from, _) = period.previous();
        let facts = self
            .store
            .overview_facts(scope, filters, previous_from, period.from, period.to, period.grouping(), Counting::Rollups)
            .await?;
        Ok(overview(period, &facts))
    }

    /// Message-thumbs satisfaction per group, with intervals and tests
    /// against the baseline (default the largest group).
    pub async fn compare(
        &self,
        scope: &Scope,
        filters: &Filters,
        period: &Period,
        group_by: Option<GroupBy>,
        baseline: Option<&str>,
    ) -> Result<Comparison, AppError> {
        let group_by =
            group_by.ok_or_else(|| DomainError::invalid("group_by", "is required: variant, bot, topic or locale"))?;
        let groups =
            self.store.compare_groups(scope, filters, period.from, period.to, group_by, Counting::Rollups).await?;
        Ok(compare(group_by, groups, baseline)?)
    }

    /// The reasons given with thumbs of `kind`, grouped after folding their
    /// text and then, unless `grouping` says text, by meaning (a reason the
    /// worker has not represented yet stays as it is); most frequent first.
    pub async fn reasons(
        &self,
        scope: &Scope,
        filters: &Filters,
        period: &Period,
        kind: FeedbackType,
        grouping: ReasonGrouping,
    ) -> Result<Vec<ReasonCount>, AppError> {
        let raw = self.store.reason_counts(scope, filters, period.from, period.to, kind).await?;
        let literal = group_reasons(raw);
        if grouping == ReasonGrouping::Text {
            return Ok(literal);
        }
        let shown: Vec<String> = literal.iter().map(|r| r.reason.clone()).filter(|r| groups_by_meaning(r)).collect();
        let found: HashMap<String, Vec<f32>> = self.store.reason_vectors(scope, shown).await?.into_iter().collect();
        let vectors: Vec<Option<Vec<f32>>> = literal.iter().map(|r| found.get(&r.reason).cloned()).collect();
        Ok(group_reasons_by_meaning(literal, &vectors))
    }
}
