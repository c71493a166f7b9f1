//! Golden examples: curated (context, ideal answer) pairs made from approved
//! feedback, and their export formats.

use serde::{Deserialize, Serialize};

use super::{DomainError, Timestamp, feedback::FeedbackType, ids::Uuid};

/// One turn of a golden example's context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

/// The stored prompt of a golden example whose context is one question (a
/// knowledge gap's answer): how it is written, and how erasure finds the
/// answers that quote a person's question verbatim.
pub fn question_prompt(question: &str) -> String {
    serde_json::to_string(&[Turn { role: "user".into(), content: question.to_owned() }])
        .expect("a list of turns is JSON")
}

/// A golden example.
#[derive(Debug, Clone, Serialize)]
pub struct GoldenExample {
    pub id: Uuid,
    pub bot_id: Uuid,
    /// The feedback it was made from.
    pub feedback_id: Option<Uuid>,
    pub conversation_id: String,
    /// The rated answer.
    pub message_id: String,
    pub feedback_type: FeedbackType,
    /// `auto_approved`, `reviewed`, or `knowledge_gap` (an admin's answer to a
    /// group of thumbed-down questions, see `/v1/recommendations`).
    pub origin: String,
    /// The conversation before the rated answer.
    pub messages: Vec<Turn>,
    /// The answer to learn: the rated answer, or the reviewer's correction.
    pub ideal_response: String,
    pub created_at: Timestamp,
    /// The knowledge gap it answers (`knowledge_gap` examples only).
    #[serde(rename = "recommendation_id", skip_serializing_if = "Option::is_none")]
    pub gap_id: Option<String>,
    /// Who made it: the reviewer who approved it or the person who answered
    /// the gap (`None` when it came from automatic approval).
    pub created_by: Option<String>,
    /// `user:<id>` or `key:<id>`.
    pub created_by_id: Option<String>,
}

/// How golden examples are exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// One `{"messages": [...]}` object a line: the chat fine-tuning layout.
    Openai,
    /// One golden example object a line.
    Jsonl,
    /// A header and one row an example.
    Csv,
}

impl ExportFormat {
    pub fn parse(raw: Option<&str>) -> Result<Self, DomainError> {
        match raw.unwrap_or("jsonl") {
            "openai" => Ok(Self::Openai),
            "jsonl" => Ok(Self::Jsonl),
            "csv" => Ok(Self::Csv),
            _ => Err(DomainError::invalid("format", "must be one of openai, jsonl, csv")),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Openai | Self::Jsonl => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Openai | Self::Jsonl => "jsonl",
            Self::Csv => "csv",
        }
    }

    /// What comes before the first example.
    pub fn header(self) -> &'static str {
        match self {
            Self::Csv => "id,bot_id,conversation_id,message_id,feedback_type,origin,prompt,ideal_response,created_at\n",
            _ => "",
        }
    }

    /// One example, as a line (with its newline).
    pub fn line(self, example: &GoldenExample) -> String {
        match self {
            Self::Openai => {
                let mut messages: Vec<Turn> = example.messages.clone();
                messages.push(Turn { role: "assistant".into(), content: example.ideal_response.clone() });
                format!("{}\n", serde_json::json!({ "messages": messages }))
            }
            Self::Jsonl => format!("{}\n", serde_json::to_string(example).unwrap_or_default()),
            Self::Csv => {
                let prompt = serde_json::to_string(&example.messages).unwrap_or_default();
                let fields = [
                    example.id.as_str(),
                    example.bot_id.as_str(),
                    &example.conversation_id,
                    &example.message_id,
                    example.feedback_type.as_str(),
                    &example.origin,
                    &prompt,
                    &example.ideal_response,
                    &example.created_at.to_rfc3339(),
                ];
                let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                format!("{}\n", row.join(","))
            }
        }
    }
}

/// Quotes a CSV field when it needs it (RFC 4180), and defuses spreadsheet
/// formulas: a field starting with `=`, `+`, `-` or `@` gets a leading `'`.
pub fn csv_field(raw: &str) -> String {
    let defused = if raw.starts_with(['=', '+', '-', '@']) { format!("'{raw}") } else { raw.to_owned() };
    if defused.contains([',', '"', '\n', '\r']) { format!("\"{}\"", defused.replace('"', "\"\"")) } else { defused }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> GoldenExample {
        GoldenExample {
            id: Uuid::from_db("g1".into()),
            bot_id: Uuid::from_db("b1".into()),
            feedback_id: None,
            conversation_id: "c1".into(),
            message_id: "a1".into(),
            feedback_type: FeedbackType::Negative,
            origin: "reviewed".into(),
            messages: vec![
                Turn { role: "system".into(), content: "Be brief.".into() },
                Turn { role: "user".into(), content: "Where is my order, \"exactly\"?".into() },
            ],
            ideal_response: "It ships tomorrow,\nfrom Lyon.".into(),
            created_at: Timestamp(0),
            gap_id: None,
            created_by: None,
            created_by_id: None,
        }
    }

    #[test]
    fn openai_lines_end_with_the_ideal_answer() {
        let line = ExportFormat::Openai.line(&example());
        assert!(line.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
        let messages = v["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[2]["role"], "assistant");
        assert_eq!(messages[2]["content"], "It ships tomorrow,\nfrom Lyon.");
        assert_eq!(v.as_object().unwrap().len(), 1, "only the messages key");
    }

    #[test]
    fn csv_rows_quote_what_needs_quoting() {
        let row = ExportFormat::Csv.line(&example());
        assert!(row.contains("\"It ships tomorrow,\nfrom Lyon.\""));
        // The prompt column is JSON; CSV then doubles its quotes.
        assert!(row.contains(r#"\""exactly\""?"#), "{row}");
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(ExportFormat::Csv.header().split(',').count(), 9);
    }

    #[test]
    fn formats_are_named() {
        assert_eq!(ExportFormat::parse(Some("openai")).unwrap(), ExportFormat::Openai);
        assert_eq!(ExportFormat::parse(None).unwrap(), ExportFormat::Jsonl);
        assert!(ExportFormat::parse(Some("xml")).is_err());
    }
}
