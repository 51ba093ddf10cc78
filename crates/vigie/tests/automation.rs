//! The clean-up rules end to end, with a real SMTP server on loopback (Python's aiosmtpd): a
//! ticket left pending gets its reminder, then its closing notice, each exactly once — also when
//! the server is killed with SIGKILL after the reminder was committed and before it could be
//! delivered (the SMTP server is not up yet: the message waits in the outbox, the restarted
//! server delivers it).
//!
//! Needs `VIGIE_PYTHON` with aiosmtpd (`scripts/test` makes one).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::Server;
use serde_json::{Value, json};
use vigie_testdb::{Backend, TestDb};

fn mails(maildir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(maildir.join("new"))
        .map(|entries| entries.flatten().filter_map(|e| std::fs::read_to_string(e.path()).ok()).collect())
        .unwrap_or_default()
}

async fn eventually<T>(within: Duration, what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(started.elapsed() < within, "{what} did not happen within {within:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn outbox(client: &reqwest::Client, base: &str, secret: &str, ticket: &str) -> Vec<Value> {
    let reply: Value = client
        .get(format!("{base}/api/v1/outbox?ticket={ticket}"))
        .bearer_auth(secret)
        .send()
        .await
        .expect("the outbox")
        .json()
        .await
        .expect("JSON");
    reply["items"].as_array().cloned().unwrap_or_default()
}

async fn reminder_and_notice_exactly_once_across_sigkill(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else { return };
    let url = db.url().to_owned();
    let dir = tempfile::tempdir().expect("a directory");
    let smtp_port = common::free_port();
    let config = dir.path().join("vigie.toml");
    // Seconds, for a test: the reminder 3.6 s after the ticket went pending, the close after 14.4 s.
    std::fs::write(
        &config,
        format!(
            r#"
            [automation]
            every_seconds = 1
            retry_seconds = 1
            smtp = "smtp://127.0.0.1:{smtp_port}"
            from = "Support <support@example.org>"

            [[automations]]
            name = "pending-reminder"
            on = ["time"]
            conditions = [{{ field = "status", is = ["pending_customer"] }}, {{ since = "status_changed", hours = 0.001 }}]
            actions = [{{ message_customer = "reminder" }}]

            [[automations]]
            name = "pending-close"
            on = ["time"]
            conditions = [{{ field = "status", is = ["pending_customer"] }}, {{ since = "status_changed", hours = 0.004 }}]
            actions = [{{ message_customer = "closed" }}, {{ set = "status", to = "closed" }}]

            [templates.reminder]
            subject = "Waiting for you: {{{{ ticket.subject }}}}"
            body = "Ticket {{{{ ticket.id }}}} waits for your answer."

            [templates.closed]
            subject = "Closed: {{{{ ticket.subject }}}}"
            body = "We closed {{{{ ticket.id }}}} without news from you."
            "#
        ),
    )
    .expect("the configuration is written");
    let secret = common::admin_token(&url, "e2e");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("a client");

    let server = Server::start(&url, &["--config".as_ref(), config.as_os_str()]);
    let base = server.base.clone();
    let customer = json!({"id": "acme", "name": "Acme", "email": "help@acme.example"});
    let reply = client.post(format!("{base}/api/v1/customers")).bearer_auth(&secret).json(&customer).send().await;
    assert_eq!(reply.expect("customer").status(), 201);
    let ticket: Value = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(&secret)
        .json(&json!({"subject": "Refund", "body": "Please refund me.", "channel": "email", "category": "billing",
                      "priority": "P3", "customer_id": "acme"}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("JSON");
    let id = ticket["id"].as_str().expect("an id").to_owned();
    let reply = client
        .patch(format!("{base}/api/v1/tickets/{id}"))
        .bearer_auth(&secret)
        .header("if-match", "*")
        .json(&json!({"status": "pending_customer"}))
        .send()
        .await
        .expect("pending");
    assert_eq!(reply.status(), 200);

    // The reminder is committed, and its delivery fails: nobody listens on the SMTP port yet.
    let (c, b, s) = (&client, base.as_str(), secret.as_str());
    let waiting = eventually(Duration::from_secs(30), "a failed delivery of the reminder", async || {
        let items = outbox(c, b, s, &id).await;
        items.into_iter().find(|m| m["template"] == "reminder" && m["attempts"].as_i64() >= Some(1))
    })
    .await;
    assert_eq!(waiting["status"], "retrying", "{waiting}");
    server.kill_9();

    // The mail server comes up, then vigie again: the reminder goes out, then the notice.
    let maildir = dir.path().join("mail");
    let _smtp = common::Listening::start_at("aiosmtpd", smtp_port, |port| {
        let mut command = Command::new(common::python());
        command
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir);
        command
    })
    .await;
    let server = Server::start(&url, &["--config".as_ref(), config.as_os_str()]);
    let b = server.base.as_str();
    let delivered = eventually(Duration::from_secs(60), "both messages delivered", async || {
        let items = outbox(c, b, s, &id).await;
        (items.len() == 2 && items.iter().all(|m| m["status"] == "delivered")).then_some(items)
    })
    .await;
    // A few more passes and deliveries: nothing is sent again.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let received = mails(&maildir);
    assert_eq!(received.len(), 2, "exactly one reminder and one notice: {received:#?}");
    let reminder = received.iter().find(|m| m.contains("Subject: Waiting for you: Refund")).expect("the reminder");
    let notice = received.iter().find(|m| m.contains("Subject: Closed: Refund")).expect("the notice");
    for (mail, message) in [(reminder, &delivered[1]), (notice, &delivered[0])] {
        assert!(mail.contains("To: help@acme.example"), "{mail}");
        let key = message["delivery_key"].as_str().expect("a key");
        assert!(mail.contains(&format!("Message-ID: <{key}.{id}@vigie>")), "{mail}");
    }
    assert!(notice.contains(&format!("We closed {id} without news from you.")), "{notice}");
    let outbox_now = outbox(c, b, s, &id).await;
    assert_eq!(outbox_now.len(), 2, "one row each: {outbox_now:?}");
    let ticket: Value = client
        .get(format!("{b}/api/v1/tickets/{id}"))
        .bearer_auth(s)
        .send()
        .await
        .expect("the ticket")
        .json()
        .await
        .expect("JSON");
    assert_eq!(ticket["status"], "closed");
    server.kill_9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reminder_and_notice_exactly_once_across_sigkill() {
    reminder_and_notice_exactly_once_across_sigkill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reminder_and_notice_exactly_once_across_sigkill() {
    reminder_and_notice_exactly_once_across_sigkill(Backend::Postgres).await;
}
