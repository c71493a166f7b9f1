//! The demo's words: three assistants, each with a small knowledge base of
//! questions (several phrasings each) and answers, and the reasons visitors give.
//!
//! The generator draws conversations from it; the demo chat answers from the
//! first assistant's entries.

/// One thing an assistant knows.
pub struct Entry {
    /// The `topic` of the answer's metadata.
    pub topic: &'static str,
    /// Words that, found in a question, point to this entry (lower case).
    pub keywords: &'static [&'static str],
    /// Ways visitors ask it.
    pub questions: &'static [&'static str],
    pub answer: &'static str,
    /// How often visitors like the answer, 0..1: some answers are weaker than others.
    pub liked: f64,
}

/// One assistant of the demo.
pub struct Persona {
    pub name: &'static str,
    pub entries: &'static [Entry],
    /// What unhappy visitors write.
    pub negative_reasons: &'static [&'static str],
    /// What happy visitors sometimes write.
    pub positive_reasons: &'static [&'static str],
    /// Conversations generated for it.
    pub conversations: usize,
}

/// The answer when nothing in the knowledge base matches.
pub const FALLBACK: &str = "I'm sorry, I don't have an answer about that yet. I can help with orders and \
                            delivery, returns and refunds, sizes, payment, discounts and your account.";

pub const SHOP: Persona = Persona {
    name: "Shop assistant",
    conversations: 190,
    entries: &[
        Entry {
            topic: "shipping",
            keywords: &["ship", "deliver", "arrive", "dispatch", "when will"],
            questions: &[
                "When will my order arrive?",
                "How long does delivery take to Germany?",
                "Do you ship to Canada?",
                "My order still says processing, when will it be dispatched?",
            ],
            answer: "Orders placed before 2 pm leave our warehouse the same day. Standard delivery takes 2–4 \
                     business days in the EU and 5–8 days to the UK, the US and Canada; you get a tracking link by \
                     email as soon as the parcel ships.",
            liked: 0.82,
        },
        Entry {
            topic: "tracking",
            keywords: &["track", "where is", "parcel", "lost", "package"],
            questions: &[
                "Where is my parcel? The tracking has not moved for three days.",
                "How do I track my order?",
                "The tracking link says delivered but I have nothing.",
            ],
            answer: "You can follow your parcel from Account → Orders → Track. If the tracking has not moved for \
                     more than 5 business days, or says delivered but nothing arrived, reply here with your order \
                     number and we will open an investigation with the carrier.",
            liked: 0.58,
        },
        Entry {
            topic: "returns",
            keywords: &["return", "send back", "exchange"],
            questions: &[
                "How do I return a jacket that doesn't fit?",
                "Can I exchange shoes for a bigger size?",
                "Is the return label free?",
                "I want to send back two items from my last order.",
            ],
            answer: "You have 30 days to return unworn items. Start the return from Account → Orders → Return \
                     items, print the prepaid label and drop the parcel at any post office. Exchanges for another \
                     size are free.",
            liked: 0.86,
        },
        Entry {
            topic: "refunds",
            keywords: &["refund", "money back", "reimburse"],
            questions: &[
                "When do I get my refund?",
                "I returned my order two weeks ago and still no refund.",
                "Will I be refunded the shipping costs?",
            ],
            answer: "Refunds are issued within 5 business days of the return reaching our warehouse, to the \
                     original payment method. Your bank may take another 3–5 days to show it. Shipping costs are \
                     refunded when the whole order is returned.",
            liked: 0.55,
        },
        Entry {
            topic: "sizing",
            keywords: &["size", "fit", "small", "large", "measure"],
            questions: &[
                "Does the Alpine parka run small?",
                "What size should I take if I'm 180 cm?",
                "Are your trail shoes true to size?",
            ],
            answer: "Our jackets are cut true to size with room for a mid layer; if you are between sizes, take the \
                     larger one. Each product page has a size chart with chest and sleeve measurements in cm.",
            liked: 0.74,
        },
        Entry {
            topic: "payment",
            keywords: &["pay", "card", "charged", "paypal", "invoice", "klarna"],
            questions: &[
                "Why was my card charged twice?",
                "Can I pay with PayPal?",
                "Do you accept payment by invoice?",
            ],
            answer: "We accept Visa, Mastercard, American Express, PayPal and Klarna invoice. A second charge is \
                     usually a pre-authorisation that disappears within 3 days; if it is still there after that, \
                     send us a screenshot of your statement.",
            liked: 0.64,
        },
        Entry {
            topic: "discounts",
            keywords: &["discount", "code", "coupon", "promo", "sale"],
            questions: &[
                "My discount code doesn't work.",
                "Is there a student discount?",
                "Can I use two promo codes on one order?",
            ],
            answer: "Only one code can be used per order, and codes do not apply to items already on sale. Students \
                     get 10% off after verifying with their university email on the Student page.",
            liked: 0.48,
        },
        Entry {
            topic: "account",
            keywords: &["account", "password", "log in", "login", "email address", "sign in"],
            questions: &[
                "I forgot my password.",
                "How do I change the email address on my account?",
                "I can't log in to my account.",
            ],
            answer: "Use 'Forgot password' on the sign-in page and we will email you a reset link valid for one \
                     hour. You can change your email address under Account → Profile once signed in.",
            liked: 0.77,
        },
        Entry {
            topic: "warranty",
            keywords: &["warranty", "broken", "defect", "zip", "repair"],
            questions: &[
                "The zip on my jacket broke after two months.",
                "What does the warranty cover?",
                "Can you repair my backpack?",
            ],
            answer: "Everything we sell has a 2-year warranty against manufacturing defects, and we repair zips and \
                     seams for free during that time. Send us a photo of the damage with your order number to start \
                     a claim.",
            liked: 0.7,
        },
    ],
    negative_reasons: &[
        "Too generic, didn't answer my question",
        "too generic.",
        "Wrong information",
        "I already tried that and it doesn't work",
        "Didn't answer my question",
        "The link in the answer is broken",
        "Too long",
        "I wanted to talk to a human",
        "Outdated: the policy changed last month",
    ],
    positive_reasons: &["Clear and quick, thanks", "Exactly what I needed", "Very helpful", "Great, thanks!"],
};

pub const HELPDESK: Persona = Persona {
    name: "IT helpdesk",
    conversations: 110,
    entries: &[
        Entry {
            topic: "vpn",
            keywords: &["vpn", "remote", "connect"],
            questions: &[
                "The VPN disconnects every ten minutes.",
                "How do I connect to the VPN from home?",
                "VPN says authentication failed.",
            ],
            answer: "Open the Company VPN app, choose the 'Auto' gateway and sign in with your SSO account. If it \
                     drops repeatedly, switch the protocol to TCP in Settings → Advanced and restart the app.",
            liked: 0.6,
        },
        Entry {
            topic: "password",
            keywords: &["password", "locked", "reset", "mfa"],
            questions: &[
                "My account is locked after too many attempts.",
                "How do I reset my Windows password?",
                "I got a new phone, how do I move my MFA?",
            ],
            answer: "Go to id.example.internal, choose 'Reset password' and confirm with your MFA app. Locked \
                     accounts unlock automatically after 15 minutes. To move MFA to a new phone, use 'Add device' \
                     while you still have the old one.",
            liked: 0.8,
        },
        Entry {
            topic: "laptop",
            keywords: &["laptop", "slow", "screen", "battery"],
            questions: &[
                "My laptop is extremely slow since the last update.",
                "How do I request a new laptop?",
                "The battery drains in two hours.",
            ],
            answer: "Restart once to finish the pending update, then run 'Health check' from the Software Center. \
                     Replacement laptops are requested from the IT portal under Hardware → Request; they are due \
                     every 4 years.",
            liked: 0.52,
        },
        Entry {
            topic: "email",
            keywords: &["email", "outlook", "mailbox", "calendar"],
            questions: &[
                "Outlook keeps asking for my password.",
                "My mailbox is full, what can I do?",
                "How do I share my calendar with my team?",
            ],
            answer: "Sign out of Outlook, remove the cached credentials in Credential Manager and sign in again. \
                     Mailboxes hold 50 GB; archive older mail with the Online Archive button. Share your calendar \
                     from Calendar → Share → choose people.",
            liked: 0.72,
        },
        Entry {
            topic: "printer",
            keywords: &["print", "printer", "scan"],
            questions: &["How do I add the printer on the 3rd floor?", "Scanning to email doesn't work."],
            answer: "Printers are added from the Software Center: search 'Follow-me printing' and install it; your \
                     badge releases the job at any printer. Scan-to-email sends to the address of the badge holder.",
            liked: 0.66,
        },
        Entry {
            topic: "access",
            keywords: &["access", "permission", "shared drive", "folder"],
            questions: &["I need access to the finance shared drive.", "How do I get admin rights on my laptop?"],
            answer: "Request access from the IT portal under Access → Shared folders; the folder owner approves it. \
                     Admin rights are not granted on standard laptops, but the Software Center installs most tools.",
            liked: 0.45,
        },
    ],
    negative_reasons: &[
        "I already tried that, still broken",
        "Not what I asked",
        "The link in the answer does not work",
        "Too generic",
        "Needs a ticket, not a chatbot",
    ],
    positive_reasons: &["Worked, thanks", "Fixed it", "Quick answer"],
};

pub const TRAVEL: Persona = Persona {
    name: "Travel concierge",
    conversations: 80,
    entries: &[
        Entry {
            topic: "booking",
            keywords: &["book", "reservation", "hotel", "room"],
            questions: &[
                "Can I change the dates of my hotel booking?",
                "Is breakfast included in my room?",
                "How do I cancel my reservation?",
            ],
            answer: "You can change or cancel from My trips until 48 hours before arrival at no cost on flexible \
                     rates. Breakfast is included when your confirmation says 'B&B'.",
            liked: 0.78,
        },
        Entry {
            topic: "flights",
            keywords: &["flight", "luggage", "baggage", "seat", "delay"],
            questions: &[
                "How much luggage can I take?",
                "My flight is delayed by 4 hours, am I entitled to compensation?",
                "Can I choose my seat?",
            ],
            answer: "Economy fares include one cabin bag of 8 kg; checked bags can be added in My trips. For a delay \
                     over 3 hours on an EU flight you may claim up to €600 under EU 261.",
            liked: 0.62,
        },
        Entry {
            topic: "visa",
            keywords: &["visa", "passport", "esta", "entry"],
            questions: &["Do I need a visa for Japan?", "Is my passport valid long enough to travel?"],
            answer: "Visa rules depend on your nationality; most EU citizens can visit Japan for 90 days without a \
                     visa. Check your destination's embassy site, as rules change.",
            liked: 0.42,
        },
        Entry {
            topic: "transfers",
            keywords: &["transfer", "airport", "taxi", "train"],
            questions: &["How do I get from the airport to my hotel?", "Can you book a taxi for my arrival?"],
            answer: "Airport transfers can be added in My trips → Extras; the driver waits 60 minutes after landing. \
                     The train is usually the fastest way into the city centre.",
            liked: 0.75,
        },
    ],
    negative_reasons: &["Not specific to my trip", "Didn't answer", "Wrong price", "Too vague"],
    positive_reasons: &["Perfect", "Helpful, thank you"],
};

/// The three assistants, the demo chat's first.
pub const PERSONAS: [&Persona; 3] = [&SHOP, &HELPDESK, &TRAVEL];

/// Openers and follow-ups that make generated conversations less uniform.
pub const FOLLOW_UPS: &[&str] =
    &["Thanks. One more thing:", "OK. And", "Great. Also,", "Hmm, that doesn't help. Another question:"];

/// The entry of `persona` a question points to, if any: the one with most keyword hits.
pub fn best_entry<'a>(persona: &'a Persona, question: &str) -> Option<&'a Entry> {
    let q = question.to_lowercase();
    persona
        .entries
        .iter()
        .map(|e| (e, e.keywords.iter().filter(|k| q.contains(*k)).count()))
        .filter(|(_, hits)| *hits > 0)
        .max_by_key(|(_, hits)| *hits)
        .map(|(e, _)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_find_their_own_entry() {
        for persona in PERSONAS {
            for entry in persona.entries {
                for q in entry.questions {
                    assert!(best_entry(persona, q).is_some(), "{q} finds no entry of {}", persona.name);
                }
            }
        }
        assert_eq!(best_entry(&SHOP, "When will my order arrive?").unwrap().topic, "shipping");
        assert!(best_entry(&SHOP, "What is the meaning of life?").is_none());
    }
}
