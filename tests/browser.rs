//! The moderator console and the public thread page in a real browser (headless Chromium
//! via ChromeDriver) against the real service on a free port with a temporary database.

mod common;
mod webdriver;

use std::time::Duration;

use common::{THREAD, TestApp, spawn_app};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, Locator};
use modgate::domain::Status;
use modgate::store::moderation;
use modgate::store::moderators::{self, Role};
use modgate::store::{comments, verdicts};
use modgate::web::highlight::hit_title;
use serde_json::{Value, json};

const ARTICLE: &str = "kz-csto-2022";
const MODERATOR: &str = "aigerim";
const PASSWORD: &str = "correct horse battery staple";
const XSS_SCRIPT: &str = "<script>window.__xss=1</script>";
const XSS_IMG: &str = "<img src=x onerror=\"window.__xss=1\">";
/// Long enough for any page load or held action in this test; waits end as soon as the
/// condition holds.
const WAIT: Duration = Duration::from_secs(30);

async fn press(c: &Client, keys: &str) {
    let mut seq = KeyActions::new("keyboard".into());
    for k in keys.chars() {
        seq = seq
            .then(KeyAction::Down { value: k })
            .then(KeyAction::Up { value: k });
    }
    c.perform_actions(seq).await.expect("key presses");
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn exists(c: &Client, css: &str) -> bool {
    !c.find_all(Locator::Css(css)).await.unwrap().is_empty()
}

async fn wait_for(c: &Client, css: &str) {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"));
}

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.expect("script runs")
}

async fn save_screenshot(c: &Client, name: &str) -> Vec<u8> {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(webdriver::screenshot_path(name), &png).expect("write screenshot");
    png
}

/// Fill in and send the sign-in form on the page the browser is on.
async fn submit_sign_in(c: &Client, name: &str, password: &str) {
    for (id, value) in [("name", name), ("password", password)] {
        c.find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// A page without inline styles, with every form control labelled, and no XSS payload run.
async fn assert_page_hygiene(c: &Client) {
    let styled = js(c, "return document.querySelectorAll('[style]').length").await;
    assert_eq!(
        styled,
        json!(0),
        "no inline style attributes (CSP forbids them)"
    );
    let unlabelled = js(
        c,
        "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
            .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
            .map(e => e.outerHTML)",
    )
    .await;
    assert_eq!(unlabelled, json!([]), "every form control has a label");
    assert_eq!(
        js(c, "return typeof window.__xss").await,
        json!("undefined"),
        "no payload ran"
    );
}

struct Posted {
    ids: Vec<i64>,
    statuses: Vec<String>,
    /// A reply under comment 4 (published; a moderator removes it before the thread page
    /// is checked). Replies to the held comments 1-3 are refused like missing parents.
    reply_to_fourth: i64,
    xss_script: i64,
    xss_img: i64,
}

async fn post_thread(app: &TestApp, token: &str) -> Posted {
    let (code, body) = app
        .client
        .put(app.url(&format!("/api/v1/articles/{ARTICLE}")))
        .bearer_auth(token)
        .json(&json!({"title": "CSTO troops leave Kazakhstan"}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(code, 200, "{:?}", body.text().await);

    let mut ids = Vec::new();
    let mut statuses = Vec::new();
    for (i, text) in THREAD.iter().enumerate() {
        let (code, body) = app
            .post_comment(ARTICLE, None, &format!("reader{i}"), text)
            .await;
        assert_eq!(code, 201, "comment {i}: {body}");
        ids.push(body["id"].as_i64().unwrap());
        statuses.push(body["status"].as_str().unwrap().to_string());
    }
    let (code, r) = app
        .post_comment(
            ARTICLE,
            Some(ids[3]),
            "replier",
            "I disagree with this, but let us keep it civil.",
        )
        .await;
    assert_eq!(code, 201, "{r}");
    let reply_to_fourth = r["id"].as_i64().unwrap();

    let (code, x1) = app.post_comment(ARTICLE, None, "tester", XSS_SCRIPT).await;
    assert_eq!(
        (code, x1["status"].as_str()),
        (201, Some("published")),
        "{x1}"
    );
    let (code, x2) = app.post_comment(ARTICLE, None, "tester2", XSS_IMG).await;
    assert_eq!(
        (code, x2["status"].as_str()),
        (201, Some("published")),
        "{x2}"
    );
    let xss_script = x1["id"].as_i64().unwrap();
    // Three reports put it in the Reported queue, so the console renders it too (and a
    // hostile report note).
    for n in 0..3 {
        let (code, r) = app
            .report_from(
                &format!("192.0.2.{n}"),
                xss_script,
                &json!({"reason": "spam", "note": XSS_IMG}),
            )
            .await;
        assert!(code == 201 || code == 200, "report: {code} {r}");
    }
    Posted {
        ids,
        statuses,
        reply_to_fourth,
        xss_script,
        xss_img: x2["id"].as_i64().unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderator_works_the_queue_in_a_browser() {
    let Some(chromedriver) = webdriver::available() else {
        return;
    };
    let app = spawn_app().await;
    let token = app.moderator_token(MODERATOR, Role::Moderator).await;
    moderators::set_password(app.state.store.writer(), MODERATOR, PASSWORD)
        .await
        .unwrap();
    let posted = post_thread(&app, &token).await;
    // The thread's first three comments are abusive: the rules and the model hold them.
    for i in 0..3 {
        assert_eq!(
            posted.statuses[i],
            "pending",
            "THREAD comment {} is held",
            i + 1
        );
    }
    let (first, second) = (posted.ids[0], posted.ids[1]);

    let driver = webdriver::Driver::start(&chromedriver).await;
    let c = &driver.client;

    // Signing in: an unauthenticated console page sends the browser to the form.
    c.goto(&app.url("/console")).await.unwrap();
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/console/login", "{url}");
    submit_sign_in(c, MODERATOR, PASSWORD).await;
    wait_for(c, "ol.items").await;
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/console/queue/pending"
    );
    // Chromium keeps the Secure cookie on http://127.0.0.1 (a secure context).
    let cookie = c
        .get_named_cookie("modgate_session")
        .await
        .expect("session cookie");
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(cookie::SameSite::Strict));
    assert!(text_of(c, ".who").await.contains(MODERATOR));

    // The held comments are listed, each rule hit highlighted with its list and term.
    let mut hits_seen = 0;
    for &id in &posted.ids[..3] {
        assert!(
            exists(c, &format!("#c{id}")).await,
            "comment {id} is in Pending"
        );
        let v = verdicts::read_latest(app.state.store.reader(), id)
            .await
            .unwrap()
            .unwrap();
        for hit in v.hits.iter().filter(|h| h.start < h.end) {
            let title = hit_title(hit);
            let found = js(
                c,
                &format!(
                    "return Array.from(document.querySelectorAll('#c{id} p.body mark.hit'))
                        .some(m => m.title.split('; ').includes({}))",
                    json!(title)
                ),
            )
            .await;
            assert_eq!(
                found,
                json!(true),
                "comment {id}: highlight titled {title:?}"
            );
            hits_seen += 1;
        }
        // Score bars with the configured thresholds marked.
        assert!(exists(c, &format!("#c{id} svg.bar .tick-hold")).await);
    }
    assert!(hits_seen > 0, "the rule lists hit comments 1-3");
    let pending_count = text_of(c, "[data-count=pending]").await;
    assert_eq!(pending_count, "3", "tab count");
    assert!(
        text_of(c, &format!("#c{first} h2"))
            .await
            .contains("CSTO troops leave Kazakhstan")
    );
    assert_page_hygiene(c).await;
    assert_eq!(
        js(c, "return [window.innerWidth, window.innerHeight]").await,
        json!([1280, 720])
    );
    let png = save_screenshot(c, "console-queue").await;
    if std::env::var("MODGATE_UPDATE_DOCS_SCREENSHOT").as_deref() == Ok("1") {
        let docs = common::project_root().join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("console-queue.png"), &png).unwrap();
    }

    // Keyboard: j/k move the focus, which stays on screen.
    assert!(
        exists(c, &format!("#c{first}.focused")).await,
        "first item focused on load"
    );
    press(c, "j").await;
    assert!(
        exists(c, &format!("#c{second}.focused")).await,
        "j moves down"
    );
    press(c, "k").await;
    assert!(exists(c, &format!("#c{first}.focused")).await, "k moves up");
    let in_view = js(
        c,
        "const r = document.querySelector('.item.focused').getBoundingClientRect();
         return r.top < window.innerHeight && r.bottom > 0",
    )
    .await;
    assert_eq!(in_view, json!(true));

    // `?` shows the shortcuts.
    press(c, "?").await;
    assert_eq!(
        js(c, "return document.getElementById('help').open").await,
        json!(true)
    );
    press(c, "\u{E00C}").await; // Escape closes the dialog
    assert_eq!(
        js(c, "return document.getElementById('help').open").await,
        json!(false)
    );
    js(c, &format!("document.getElementById('c{first}').focus()")).await;

    // r then 1: remove the first as offensive. Focus moves on to the second.
    press(c, "r1").await;
    assert!(exists(c, &format!("#c{first}.held")).await, "held for undo");
    assert!(exists(c, &format!("#c{second}.focused")).await);
    // a approves the second (which sends the removal at once); u takes the approval back
    // before it is sent; a again lets it stand.
    press(c, "a").await;
    assert!(exists(c, &format!("#c{second}.held")).await);
    wait_for(c, &format!("#c{first}.done")).await;
    press(c, "u").await;
    assert!(!exists(c, &format!("#c{second}.held")).await, "undone");
    assert!(text_of(c, "#toast").await.starts_with("Undone"));
    assert!(
        exists(c, &format!("#c{second}.focused")).await,
        "focus returns to the undone item"
    );
    press(c, "a").await;
    wait_for(c, &format!("#c{second}.done")).await;
    assert!(!exists(c, ".item.failed").await, "no action was refused");
    assert_eq!(
        text_of(c, "[data-count=pending]").await,
        "1",
        "counts follow"
    );

    // Bulk: x selects the focused item; "Remove selected" holds the removal like a key
    // does, and the toast's Undo button takes it back unsent.
    let third = posted.ids[2];
    js(c, &format!("document.getElementById('c{third}').focus()")).await;
    press(c, "x").await;
    assert_eq!(text_of(c, "[data-selected]").await, "1");
    c.find(Locator::Css("#bulk button[value=remove]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(
        exists(c, &format!("#c{third}.held")).await,
        "bulk removal held for undo"
    );
    c.find(Locator::Css("#toast [data-undo]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(!exists(c, &format!("#c{third}.held")).await, "undone");

    // Two moderators, one comment: another moderator removes a held comment while this
    // page still shows it pending; approving it here is refused (409 status_changed), the
    // item says so, and the removal stands.
    let (code, late) = app
        .post_comment(ARTICLE, None, "late-reader", THREAD[1])
        .await;
    assert_eq!(
        (code, late["status"].as_str()),
        (201, Some("pending")),
        "{late}"
    );
    let late = late["id"].as_i64().unwrap();
    c.goto(&app.url("/console/queue/pending")).await.unwrap();
    wait_for(c, &format!("#c{late}")).await;
    let (code, out) = app
        .mod_post(
            &token,
            &format!("/api/v1/moderation/comments/{late}/decision"),
            &json!({"action": "remove", "reason": "threat"}),
        )
        .await;
    assert_eq!(code, 200, "{out}");
    js(c, &format!("document.getElementById('c{late}').focus()")).await;
    press(c, "a").await;
    wait_for(c, &format!("#c{late}.conflict")).await;
    let status = text_of(c, &format!("#c{late} .item-status")).await;
    assert!(status.contains("someone else decided it first"), "{status}");
    let db = app.state.store.reader();
    assert_eq!(
        comments::read(db, late).await.unwrap().unwrap().status,
        Status::Removed
    );
    c.goto(&app.url("/console/queue/pending")).await.unwrap();
    wait_for(c, "ol.items").await;

    // The database has exactly what the moderator let stand.
    let db = app.state.store.reader();
    let c1 = comments::read(db, first).await.unwrap().unwrap();
    let c2 = comments::read(db, second).await.unwrap().unwrap();
    assert_eq!((c1.status, c2.status), (Status::Removed, Status::Published));
    let log1 = moderation::list(db, None, 50, Some(first)).await.unwrap();
    let log2 = moderation::list(db, None, 50, Some(second)).await.unwrap();
    let removal: Vec<_> = log1.iter().filter(|e| e.action == "remove").collect();
    assert_eq!(removal.len(), 1);
    assert_eq!(
        (removal[0].actor.as_str(), removal[0].reason.as_deref()),
        (MODERATOR, Some("offensive"))
    );
    let approvals: Vec<_> = log2.iter().filter(|e| e.action == "approve").collect();
    assert_eq!(
        approvals.len(),
        1,
        "the undone approval was never sent: {log2:?}"
    );
    assert_eq!(approvals[0].actor, MODERATOR);

    // The moderation log page lists both actions with the moderator's name.
    c.goto(&app.url("/console/log")).await.unwrap();
    let rows = js(
        c,
        "return Array.from(document.querySelectorAll('table.log tbody tr'))
            .map(r => Array.from(r.cells).map(td => td.textContent.trim()))",
    )
    .await;
    let rows: Vec<Vec<String>> = serde_json::from_value(rows).unwrap();
    let row = |action: &str, id: i64| {
        rows.iter()
            .any(|r| r[1] == MODERATOR && r[2] == action && r[3] == format!("#{id}"))
    };
    assert!(row("remove", first), "log shows the removal: {rows:?}");
    assert!(row("approve", second), "log shows the approval: {rows:?}");
    assert_page_hygiene(c).await;

    // Hostile text in the Reported queue (body and report note) renders as text.
    c.goto(&app.url("/console/queue/reported")).await.unwrap();
    wait_for(c, &format!("#c{}", posted.xss_script)).await;
    assert_eq!(
        text_of(c, &format!("#c{} p.body", posted.xss_script)).await,
        XSS_SCRIPT
    );
    assert!(
        text_of(c, &format!("#c{} .reports", posted.xss_script))
            .await
            .contains(XSS_IMG)
    );
    assert_page_hygiene(c).await;

    // A form post without the CSRF token is refused, even with the session cookie.
    let session = c
        .get_named_cookie("modgate_session")
        .await
        .unwrap()
        .value()
        .to_string();
    let csrf = js(
        c,
        "return document.querySelector('meta[name=csrf-token]').content",
    )
    .await;
    let post_form = |body: String| {
        app.client
            .post(app.url("/console/actions"))
            .header("cookie", format!("modgate_session={session}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let r = post_form(format!("action=approve&ids={third}"))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = post_form(format!("action=approve&ids={third}&csrf=00ff"))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(
        comments::read(db, third).await.unwrap().unwrap().status,
        Status::Pending
    );
    assert!(csrf.as_str().is_some_and(|t| t.len() == 64));

    // A published comment with a reply is removed through the API.
    let fourth = posted.ids[3];
    let (code, out) = app
        .mod_post(
            &token,
            &format!("/api/v1/moderation/comments/{fourth}/decision"),
            &json!({"action": "remove", "reason": "off_topic"}),
        )
        .await;
    assert_eq!(code, 200, "{out}");

    // The public thread page shows the result as readers see it.
    c.goto(&app.url(&format!("/articles/{ARTICLE}")))
        .await
        .unwrap();
    wait_for(c, "#comment-count").await;
    let (_, api_thread) = app
        .get_json(&format!("/api/v1/articles/{ARTICLE}/comments"))
        .await;
    let n = api_thread["count"].as_u64().unwrap();
    let expected = if n == 1 {
        "1 Comment".to_string()
    } else {
        format!("{n} Comments")
    };
    assert_eq!(text_of(c, "#comment-count").await, expected);
    assert_eq!(
        text_of(c, &format!("#comment-{first} > article .placeholder")).await,
        "Comment removed for violating comments policy"
    );
    assert_eq!(
        text_of(c, &format!("#comment-{fourth} > article .placeholder")).await,
        "Comment removed for violating comments policy"
    );
    assert!(
        exists(
            c,
            &format!(
                "#comment-{fourth} > ol.replies > #comment-{}",
                posted.reply_to_fourth
            )
        )
        .await,
        "the reply under the removed comment is kept"
    );
    assert!(
        exists(c, &format!("#comment-{second}")).await,
        "the approved comment is public"
    );
    assert!(
        !exists(c, &format!("#comment-{third}")).await,
        "the held comment is not"
    );
    assert_eq!(
        text_of(c, &format!("#comment-{} .text", posted.xss_script)).await,
        XSS_SCRIPT
    );
    assert_eq!(
        text_of(c, &format!("#comment-{} .text", posted.xss_img)).await,
        XSS_IMG
    );
    assert_page_hygiene(c).await;
    save_screenshot(c, "thread").await;

    // Posting from the page goes through the public API.
    c.find(Locator::Id("author_name"))
        .await
        .unwrap()
        .send_keys("Dana")
        .await
        .unwrap();
    c.find(Locator::Id("body"))
        .await
        .unwrap()
        .send_keys("Thanks for the clear reporting.")
        .await
        .unwrap();
    c.find(Locator::Css("#comment-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(
            "//p[contains(@class,'form-status')][contains(., 'is published')]",
        ))
        .await
        .expect("the API's answer is shown");
    let (_, after) = app
        .get_json(&format!("/api/v1/articles/{ARTICLE}/comments"))
        .await;
    assert_eq!(after["count"].as_u64().unwrap(), n + 1);
    let m = n + 1;
    assert_eq!(text_of(c, "#comment-count").await, format!("{m} Comments"));

    // The form counts characters as the API does (scalar values): 1,500 emoji fit, 1,501
    // do not, in the browser and at the API alike.
    let validity = js(
        c,
        "const b = document.getElementById('body'); const at = (n) => { \
           b.value = '😀'.repeat(n); b.dispatchEvent(new Event('input')); \
           return [b.checkValidity(), document.getElementById('body-count').textContent]; }; \
         const r = [at(1500), at(1501)]; b.value = ''; b.dispatchEvent(new Event('input')); return r;",
    )
    .await;
    assert_eq!(
        validity,
        json!([
            [true, "1500 / 1500 characters"],
            [false, "1501 / 1500 characters"]
        ])
    );
    let (code, out) = app
        .post_comment(ARTICLE, None, "emoji", &"😀".repeat(1500))
        .await;
    assert_eq!(code, 201, "{out}");
    let (code, out) = app
        .post_comment(ARTICLE, None, "emoji", &"😀".repeat(1501))
        .await;
    assert_eq!((code, out["error"]["field"].as_str()), (422, Some("body")));

    // A phone-width window: no sideways scrolling on the queue.
    c.goto(&app.url("/console/queue/pending")).await.unwrap();
    wait_for(c, "ol.items").await;
    driver.set_viewport(390, 844).await;
    let overflow = js(
        c,
        "return document.documentElement.scrollWidth - window.innerWidth",
    )
    .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "no horizontal overflow at phone width ({overflow})"
    );
    save_screenshot(c, "console-queue-phone").await;
    driver.set_viewport(1280, 720).await;

    // Sign-out ends the session on the server, not just in the browser.
    c.find(Locator::Css("form[action='/console/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "#password").await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirect
        .get(app.url("/console/queue/pending"))
        .header("cookie", format!("modgate_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/console/login")
    );

    // API tokens keep working for the JSON API.
    let (code, _) = app.mod_get(&token, "/api/v1/moderation/counts").await;
    assert_eq!(code, 200);

    driver.quit().await;
}

/// The agreement page: an admin sees the moderators' decisions drawn as SVG charts, with no
/// Content-Security-Policy violation; a moderator is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_sees_agreement_charts_in_a_browser() {
    let Some(chromedriver) = webdriver::available() else {
        return;
    };
    let app = spawn_app().await;
    let admin = "editor";
    app.console_moderator(admin, Role::Admin, PASSWORD).await;
    let token = app.moderator_token(MODERATOR, Role::Moderator).await;
    // Held and approved (a false hold), held and removed, published then reported and
    // removed (a miss).
    let texts = [
        (
            "As a gay man I say this plan for the budget is damn stupid",
            "approve",
        ),
        ("You are a stupid idiot and everyone hates you", "remove"),
        ("What a dumb idea, this budget is a joke", "remove"),
    ];
    let mut held_approved = 0;
    for (i, (text, action)) in texts.iter().enumerate() {
        let (code, posted) = app
            .post_comment(ARTICLE, None, &format!("reader{i}"), text)
            .await;
        assert_eq!(code, 201, "{posted}");
        let id = posted["id"].as_i64().unwrap();
        if posted["status"] == "published" {
            for reader in 0..3 {
                let (code, out) = app
                    .report_from(
                        &format!("10.9.{i}.{reader}"),
                        id,
                        &json!({"reason": "abusive"}),
                    )
                    .await;
                assert!(code == 200 || code == 201, "{out}");
            }
        } else if *action == "approve" {
            held_approved += 1;
        }
        let body = if *action == "remove" {
            json!({"action": "remove", "reason": "abusive"})
        } else {
            json!({"action": "approve"})
        };
        let (code, out) = app
            .mod_post(
                &token,
                &format!("/api/v1/moderation/comments/{id}/decision"),
                &body,
            )
            .await;
        assert_eq!(code, 200, "{text}: {out}");
    }

    let driver = webdriver::Driver::start(&chromedriver).await;
    let c = &driver.client;
    webdriver::record_csp_violations(c).await;
    c.goto(&app.url("/console/login?next=%2Fconsole%2Fstats"))
        .await
        .unwrap();
    submit_sign_in(c, admin, PASSWORD).await;
    wait_for(c, "svg#chart-toxic").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/console/stats");
    assert_eq!(text_of(c, "nav .tabs a.active").await, "Agreement");
    assert!(
        text_of(c, "#stats-summary")
            .await
            .starts_with("3 decisions read")
    );
    // One week, its bar as high as the share of held comments approved.
    let weeks = js(c, "return Array.from(document.querySelectorAll('#chart-weeks rect')).map(r => r.querySelector('title').textContent)").await;
    let weeks = weeks.as_array().unwrap();
    assert_eq!(weeks.len(), 1, "{weeks:?}");
    assert!(
        weeks[0]
            .as_str()
            .unwrap()
            .contains(&format!("{held_approved} of")),
        "{weeks:?}"
    );
    // Six label charts, each with approved and removed bars over ten bins, counting the
    // three decided comments; drawn in the stylesheet's colours (no inline style).
    assert_eq!(
        js(
            c,
            "return document.querySelectorAll('figure.label-chart svg').length"
        )
        .await,
        json!(6)
    );
    assert_eq!(
        js(
            c,
            "return document.querySelectorAll('#chart-toxic rect.approved').length"
        )
        .await,
        json!(10)
    );
    assert!(
        text_of(c, "figure.label-chart figcaption")
            .await
            .contains("1 approved, 2 removed")
    );
    assert_eq!(
        js(
            c,
            "return getComputedStyle(document.querySelector('#chart-toxic rect.removed')).fill"
        )
        .await,
        json!("rgb(198, 40, 40)"),
        "the console stylesheet styles the charts"
    );
    assert!(text_of(c, "table.stats").await.contains("approved"));
    assert_page_hygiene(c).await;
    assert_eq!(
        js(
            c,
            "return Array.from(document.scripts).filter(s => !s.src).length"
        )
        .await,
        json!(0),
        "no inline script"
    );
    assert_eq!(
        webdriver::csp_violations(c).await,
        json!([]),
        "no CSP violation"
    );
    save_screenshot(c, "console-agreement").await;

    // A language with no decisions: empty charts, still rendered.
    c.goto(&app.url("/console/stats?language=ru"))
        .await
        .unwrap();
    wait_for(c, "svg#chart-toxic").await;
    assert!(
        text_of(c, "#stats-summary")
            .await
            .starts_with("0 decisions read")
    );
    assert_eq!(webdriver::csp_violations(c).await, json!([]));
    driver.quit().await;

    // A moderator without the admin role is refused.
    moderators::set_password(app.state.store.writer(), MODERATOR, PASSWORD)
        .await
        .unwrap();
    let (http, code, _, cookie) = app
        .console_sign_in(MODERATOR, PASSWORD, "/console/stats")
        .await;
    assert_eq!(code, 303);
    let r = http
        .get(app.url("/console/stats"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
}

/// Without a browser: sign-in failures, redirects, 401 for fetch, security headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sessions_and_headers_over_http() {
    let app = spawn_app().await;
    app.moderator_token(MODERATOR, Role::Moderator).await;
    moderators::set_password(app.state.store.writer(), MODERATOR, PASSWORD)
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let r = http
        .get(app.url("/console/queue/pending?sort=score"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"],
        "/console/login?next=%2Fconsole%2Fqueue%2Fpending%3Fsort%3Dscore"
    );
    let r = http
        .get(app.url("/console/queue/pending"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let login = http.get(app.url("/console/login")).send().await.unwrap();
    let csp = login.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "CSP {csp} lacks {part}");
    }
    assert_eq!(login.headers()["x-content-type-options"], "nosniff");
    assert_eq!(login.headers()["referrer-policy"], "same-origin");

    let sign_in = |name: &'static str, password: &'static str| {
        http.post(app.url("/console/login"))
            .form(&[
                ("name", name),
                ("password", password),
                ("next", "/console/log"),
            ])
            .send()
    };
    let r = sign_in(MODERATOR, "wrong password").await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().get("set-cookie").is_none());
    assert!(r.text().await.unwrap().contains("Wrong name or password"));

    let r = sign_in(MODERATOR, PASSWORD).await.unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/console/log");
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/console"] {
        assert!(set_cookie.contains(part), "{set_cookie} lacks {part}");
    }
    let value = set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.strip_prefix("modgate_session="))
        .unwrap()
        .to_string();
    // Only the SHA-256 of the cookie is stored.
    let stored: Vec<String> = modgate::on_pool!(app.state.store.reader(), p => sqlx::query_scalar("SELECT id_hash FROM console_sessions")
        .fetch_all(p)
        .await)
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], value);
    assert_eq!(stored[0].len(), 64);

    let r = http
        .get(app.url("/console/log"))
        .header("cookie", format!("modgate_session={value}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.text().await.unwrap().contains(MODERATOR));

    // A sign-in form posted from another site is refused.
    let r = http
        .post(app.url("/console/login"))
        .header("origin", "https://evil.example")
        .form(&[("name", MODERATOR), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);

    // Without the script, forms post and come back (303) to the page they came from;
    // repeated `ids` make a bulk decision.
    let page = http
        .get(app.url("/console/queue/approved"))
        .header("cookie", format!("modgate_session={value}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf-token\" content=\"";
    let at = page.find(marker).expect("csrf meta tag") + marker.len();
    let csrf = &page[at..at + 64];
    let mut ids = Vec::new();
    for (i, text) in ["Good riddance.", "Well said.", "Thanks for the report."]
        .iter()
        .enumerate()
    {
        let (code, body) = app
            .post_comment(ARTICLE, None, &format!("r{i}"), text)
            .await;
        assert_eq!(
            (code, body["status"].as_str()),
            (201, Some("published")),
            "{body}"
        );
        ids.push(body["id"].as_i64().unwrap());
    }
    let form = |body: String, json: bool| {
        let mut req = http
            .post(app.url("/console/actions"))
            .header("cookie", format!("modgate_session={value}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if json {
            req = req.header("accept", "application/json");
        }
        req.send()
    };
    let r = form(
        format!(
            "csrf={csrf}&action=remove&reason=spam&note=bulk&ids={}&ids={}&back=%2Fconsole%2Fqueue%2Fremoved",
            ids[0], ids[1]
        ),
        false,
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/console/queue/removed");
    let db = app.state.store.reader();
    for id in &ids[..2] {
        assert_eq!(
            comments::read(db, *id).await.unwrap().unwrap().status,
            Status::Removed
        );
    }
    assert_eq!(
        comments::read(db, ids[2]).await.unwrap().unwrap().status,
        Status::Published
    );
    // The script's fetch gets per-id results and fresh counts; an impossible transition is
    // reported for its id while the others apply.
    let r = form(
        format!("csrf={csrf}&action=restore&ids={}&ids={}", ids[0], ids[2]),
        true,
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["results"][0]["ok"], json!(true));
    assert_eq!(body["results"][1]["ok"], json!(false));
    assert_eq!(body["results"][1]["error"]["code"], "invalid_transition");
    assert_eq!(body["counts"]["removed"], json!(1));
    // Removing needs one of the console's reasons.
    let r = form(format!("csrf={csrf}&action=remove&ids={}", ids[2]), true)
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let log = moderation::list(db, None, 10, Some(ids[1])).await.unwrap();
    assert_eq!(
        (
            log[0].action.as_str(),
            log[0].actor.as_str(),
            log[0].reason.as_deref(),
            log[0].note.as_deref()
        ),
        ("remove", MODERATOR, Some("spam"), Some("bulk"))
    );

    // Sign-in attempts are rate-limited per name.
    let limit = app.state.live().config.limits.sign_in_attempts_per_minute;
    let mut last = 0;
    for _ in 0..=limit {
        last = sign_in(MODERATOR, "wrong password")
            .await
            .unwrap()
            .status()
            .as_u16();
    }
    assert_eq!(last, 429);
}
