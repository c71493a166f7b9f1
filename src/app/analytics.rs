//! The figures: the overview of a period against the previous one, A/B
//! comparisons, and the reasons people give. Counted from the rollups; the
//! domain turns the counts into figures.

use super::{App, AppError};
use crate::domain::{
    DomainError,
    access::Scope,
    analytics::{Comparison, Filters, GroupBy, Overview, Period, ReasonCount, compare, group_reasons, overview},
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
            group_by.ok_or_else(|| DomainError::invalid("group_by", "is required: variant, bot or topic"))?;
        let groups =
            self.store.compare_groups(scope, filters, period.from, period.to, group_by, Counting::Rollups).await?;
        Ok(compare(group_by, groups, baseline)?)
    }

    /// The reasons given with thumbs of `kind`, grouped, most frequent first.
    pub async fn reasons(
        &self,
        scope: &Scope,
        filters: &Filters,
        period: &Period,
        kind: FeedbackType,
    ) -> Result<Vec<ReasonCount>, AppError> {
        let raw = self.store.reason_counts(scope, filters, period.from, period.to, kind).await?;
        Ok(group_reasons(raw))
    }
}
