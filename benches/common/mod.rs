//! Inputs shared by the benches.

use diaoyan_model::{Kind, Submission};

/// Opinion rows in the style of a county's message board: problems and requests drawn from the
/// generator's campaign text, one row each.
pub fn rows(n: usize) -> Vec<Submission> {
    let docs = diaoyan_gen::generate(n / 8 + 1, 7);
    let sentences: Vec<String> = docs
        .iter()
        .flat_map(|d| {
            d.text
                .split(['。', '\n'])
                .filter(|s| s.chars().count() >= 10)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    (0..n)
        .map(|i| Submission {
            id: format!("{i:08}"),
            path: format!("opinions.xlsx#{}", i + 2),
            kind: Some(Kind::Opinion),
            author: format!("居民{}", i % 5000),
            place: docs[i % docs.len()].village.clone(),
            date: format!("2024-03-{:02}", 1 + i % 28),
            text: format!("{}。", sentences[i % sentences.len()]).into(),
            ..Submission::default()
        })
        .collect()
}
