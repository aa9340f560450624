//! A Perspective request with a 10,000-character Russian comment, followed at once by 20
//! short ones, with the shipped config (the multilingual transformer) and Perspective's
//! 700 ms budget: every one is scored. Without a cap on the windows scored per text the
//! long one took about 0.7 s on two cores and the short ones behind it were refused (429).
//!
//! A test binary of its own, so no other test shares the two cores while it runs.

mod common;

use std::time::Instant;

use modgate::store::apikeys;
use serde_json::{Value, json};

/// About 10,000 characters of varied Russian prose, made without ../shared.
fn long_russian() -> String {
    let sentences = [
        "Вчера в городе прошло заседание комиссии по вопросам благоустройства дворов.",
        "Жители жаловались на разбитые дороги и отсутствие освещения возле школы.",
        "Представитель администрации пообещал, что ремонт начнётся весной следующего года.",
        "Многие сомневаются, ведь такие обещания звучали уже не в первый раз.",
        "Автор статьи подробно описал историю вопроса и привёл мнения экспертов.",
        "По данным статистики, расходы на содержание дорог выросли почти вдвое.",
        "Тем не менее качество покрытия за последние годы заметно не улучшилось.",
        "Некоторые депутаты предложили создать общественный совет для контроля работ.",
    ];
    let mut text = String::new();
    let mut n = 0usize;
    while text.chars().count() < 10_000 {
        text.push_str(sentences[n % sentences.len()]);
        text.push_str(&format!(" (пункт {n}) "));
        n += 1;
    }
    text.chars().take(10_000).collect()
}

const SHORT: [&str; 4] = [
    "Спасибо за статью, очень интересно.",
    "Ты тупой идиот, все тебя ненавидят",
    "Согласен с автором, давно пора навести порядок.",
    "Опять одни обещания, ничего не изменится.",
];

async fn analyze(client: &reqwest::Client, url: &str, text: &str) -> (u16, Value, u128) {
    let started = Instant::now();
    let r = client
        .post(url)
        .json(
            &json!({"comment": {"text": text}, "languages": ["en"], "doNotStore": true,
                      "requestedAttributes": {"TOXICITY": {}}}),
        )
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, body, started.elapsed().as_millis())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_comment_does_not_make_the_next_ones_fail() {
    let app = common::spawn_shipped().await;
    assert_eq!(
        app.state.live().config.perspective.timeout_ms,
        700,
        "the shipped budget"
    );
    let key = apikeys::add(app.state.store.writer(), "long")
        .await
        .unwrap()
        .1;
    let url = app.url(&format!("/v1alpha1/comments:analyze?key={key}"));
    let client = reqwest::Client::new();
    // The first passes of a fresh ONNX Runtime session are slower than the rest.
    for text in SHORT {
        assert_eq!(analyze(&client, &url, text).await.0, 200);
    }
    let long = long_russian();
    assert!(
        long.len() > 17_000 && long.len() <= 20 * 1024,
        "{}",
        long.len()
    );

    // A shared 2-core machine can stall any one request past the 700 ms budget (once in
    // several CI runs the capped long comment, usually 260-340 ms, took 716 ms). A round whose
    // long comment timed out is run once more; without the window cap the short comments
    // behind it are refused in every round (it takes 657-708 ms alone), so this still fails.
    let mut retried = false;
    let mut round = 0;
    while round < 2 {
        let first = tokio::spawn({
            let (client, url, long) = (client.clone(), url.clone(), long.clone());
            async move { analyze(&client, &url, &long).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let shorts: Vec<_> = (0..20)
            .map(|i| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move { analyze(&client, &url, SHORT[i % SHORT.len()]).await })
            })
            .collect();
        let (status, body, ms) = first.await.unwrap();
        if status == 503 && !retried {
            eprintln!("round {round}: long comment timed out after {ms} ms ({body}); once more");
            retried = true;
            for short in shorts {
                short.await.unwrap();
            }
            continue;
        }
        assert_eq!(
            status, 200,
            "round {round}: long comment after {ms} ms: {body}"
        );
        assert_eq!(body["detectedLanguages"], json!(["ru"]));
        let mut slowest = 0;
        for (i, short) in shorts.into_iter().enumerate() {
            let (status, body, ms) = short.await.unwrap();
            assert_eq!(
                status, 200,
                "round {round}, short {i} after {ms} ms: {body}"
            );
            assert!(body["attributeScores"]["TOXICITY"]["summaryScore"]["value"].is_number());
            slowest = slowest.max(ms);
        }
        eprintln!("round {round}: long {ms} ms, slowest short {slowest} ms");
        round += 1;
    }
}
