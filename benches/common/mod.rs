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
            id: format!("{i:08}").into(),
            path: format!("opinions.xlsx#{}", i + 2).into(),
            kind: Some(Kind::Opinion),
            author: format!("居民{}", i % 5000).into(),
            place: docs[i % docs.len()].village.as_str().into(),
            date: format!("2024-03-{:02}", 1 + i % 28).into(),
            text: format!("{}。", sentences[i % sentences.len()]).into(),
            ..Submission::default()
        })
        .collect()
}
