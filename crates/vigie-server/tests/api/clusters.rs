use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use vigie_server::settings::ConfigFile;

use crate::helpers::TestApp;

const CARD: &str = "Mon paiement par carte est refusé sur votre site depuis ce matin. La banque dit que tout va \
                    bien de son côté et la carte fonctionne ailleurs. Pouvez-vous regarder ?";

async fn id_of(app: &TestApp, token: &str, overrides: Value) -> String {
    let created = app.create(token, overrides).await.expect(201);
    created.body["id"].as_str().expect("id").to_owned()
}

fn card(n: usize) -> Value {
    json!({"subject": "Paiement refusé", "body": format!("{CARD} Commande {n}.")})
}

fn listed(cluster: &Value) -> Vec<String> {
    cluster["tickets"].as_array().expect("tickets").iter().map(|t| t["id"].as_str().expect("id").to_owned()).collect()
}

async fn similar_open_tickets_come_as_one_batch(app: TestApp) {
    let mut front = Vec::new();
    for n in 0..4 {
        front.push(id_of(&app, &app.agent, card(n)).await);
    }
    let back = id_of(&app, &app.lead, json!({"team": "back_office", "subject": "Paiement refusé", "body": CARD})).await;
    id_of(&app, &app.agent, json!({"subject": "Adresse", "body": "Merci de changer mon adresse de livraison."})).await;
    id_of(&app, &app.agent, json!({"subject": "Facture", "body": "Ma facture de mars est introuvable."})).await;

    // The first list computes the clusters.
    let list = app.get("/api/v1/clusters", &app.agent).await.expect(200).body;
    assert_eq!(list["threshold"], 0.7);
    assert!(list["computed_at"].is_string());
    let clusters = list["clusters"].as_array().expect("clusters");
    assert_eq!(clusters.len(), 1, "the other tickets are alone: {list}");
    let cluster = &clusters[0];
    assert_eq!(cluster["id"], front[0].as_str(), "named by its first ticket");
    assert_eq!(listed(cluster), front, "the agent sees the front office's, oldest first");
    // Of what the agent may not read, nothing: neither the back office's ticket nor its count.
    assert_eq!((cluster["open"].as_u64(), cluster["size"].as_u64()), (Some(4), Some(4)));
    assert_eq!(cluster["last_24h"], 4);
    let name = cluster["name"].as_str().expect("name");
    assert!(name.contains("paiement") && name.contains("carte"), "{name}");
    assert_eq!(cluster["tickets"][0]["status"], "new");

    let lead = app.get("/api/v1/clusters", &app.lead).await.expect(200).body;
    assert_eq!(lead["clusters"][0]["open"], 5, "{lead}");
    assert_eq!((lead["clusters"][0]["size"].as_u64(), lead["clusters"][0]["last_24h"].as_u64()), (Some(5), Some(5)));
    assert!(listed(&lead["clusters"][0]).contains(&back));
    let only_back = app.get("/api/v1/clusters?team=back_office", &app.lead).await.expect(200).body;
    assert_eq!(only_back["clusters"], json!([]), "one back-office ticket is no batch");
    let only_back = app.get("/api/v1/clusters?team=back_office&min_open=1", &app.lead).await.expect(200).body;
    assert_eq!(listed(&only_back["clusters"][0]), [back.as_str()]);
    let two = app.get("/api/v1/clusters?tickets=2", &app.lead).await.expect(200).body;
    assert_eq!(listed(&two["clusters"][0]).len(), 2);
    assert_eq!(two["clusters"][0]["open"], 5);

    // A solved ticket leaves the batch at once (the live state), before the next computation.
    app.patch(&format!("/api/v1/tickets/{}", front[3]), &app.lead, Some("\"1\""), json!({"status": "solved"}))
        .await
        .expect(200);
    let list = app.get("/api/v1/clusters", &app.agent).await.expect(200).body;
    assert_eq!(listed(&list["clusters"][0]), front[..3]);

    // The batch answered with one reply: each ticket gets it as its own event.
    let reply = "Un incident de paiement est en cours de correction, merci de votre patience.";
    let ids = listed(&list["clusters"][0]);
    let report = app
        .post("/api/v1/tickets/bulk", &app.lead, json!({"ids": ids, "reply": {"body": reply, "public": true}}))
        .await
        .expect(200)
        .body;
    assert_eq!(report["n_changed"], 3, "{report}");
    for id in &ids {
        let events = app.get(&format!("/api/v1/tickets/{id}/events"), &app.lead).await.expect(200).body;
        let replies =
            events["items"].as_array().expect("items").iter().filter(|e| e["kind"] == "comment_added").count();
        assert_eq!(replies, 1, "{events}");
    }

    // New tickets join at the next computation.
    let late = id_of(&app, &app.agent, card(9)).await;
    app.state.clusters.refresh(&app.state).await.expect("computed");
    let list = app.get("/api/v1/clusters", &app.agent).await.expect(200).body;
    assert!(listed(&list["clusters"][0]).contains(&late), "{list}");

    // Bad queries name their parameter.
    app.get("/api/v1/clusters?limit=0", &app.agent).await.problem(400, Some("limit"));
    app.get("/api/v1/clusters?tickets=501", &app.agent).await.problem(400, Some("tickets"));
    app.get("/api/v1/clusters?team=a%20b", &app.agent).await.problem(400, Some("team"));
    app.get("/api/v1/clusters?sort=size", &app.agent).await.problem(400, Some("sort"));
    app.get("/api/v1/clusters", "not-a-token").await.problem(401, None);
}

/// A cluster that came once a day for weeks and then 12 times in a day fires `cluster_spike`
/// with its name and samples; the weekly review lists it among the recurring clusters.
async fn a_cluster_spike_is_an_alert_and_recurring_clusters_are_reviewed(app: TestApp) {
    let now = Timestamp::from_second(1_790_000_000).expect("instant");
    let mut n = 0;
    for days_ago in (1..=20).rev() {
        app.set_now(now.checked_sub(SignedDuration::from_hours(24 * days_ago + 1)).expect("instant"));
        n += 1;
        let id = id_of(&app, &app.lead, card(n)).await;
        app.patch(&format!("/api/v1/tickets/{id}"), &app.lead, Some("\"1\""), json!({"status": "solved"}))
            .await
            .expect(200);
    }
    app.set_now(now.checked_sub(SignedDuration::from_hours(3)).expect("instant"));
    let mut today = Vec::new();
    for _ in 0..12 {
        n += 1;
        today.push(id_of(&app, &app.agent, card(n)).await);
    }
    app.set_now(now);
    let config = ConfigFile::from_toml(
        r#"
        [[alerts.rules]]
        name = "recurring-problem"
        when = "cluster_spike"
        above = 5
        min_tickets = 8
        "#,
    )
    .expect("parses");
    let state = app.state.clone().with_operations(config.operations().expect("valid"));
    let report = state.clusters.refresh(&state).await.expect("computed");
    assert_eq!(report.clusters.len(), 1, "{:?}", report.clusters);
    assert_eq!(report.clusters[0].volume.daily[0], 12);

    assert_eq!(vigie_server::alerts::evaluate_rules(&state, now).await.expect("evaluated"), 1);
    let alerts = app.get("/api/v1/alerts", &app.lead).await.expect(200).body;
    let summary = alerts["items"][0]["summary"].as_str().expect("summary");
    assert!(summary.starts_with("12 tickets in 24 h look like '"), "{summary}");
    assert!(summary.contains("paiement") && summary.ends_with("(usually 1 a day)"), "{summary}");
    assert_eq!(alerts["items"][0]["value"], 11.0, "12 against a usual 1, spread 1");
    // Quiet in its cooldown, for that cluster: another one spiking meanwhile still fires.
    assert_eq!(vigie_server::alerts::evaluate_rules(&state, now).await.expect("evaluated"), 0);
    for n in 0..9 {
        let body = format!(
            "Le site affiche une erreur 500 quand je veux télécharger mon relevé de compte depuis hier soir. Client {n}."
        );
        id_of(&app, &app.agent, json!({"subject": "Erreur 500 relevé", "body": body})).await;
    }
    state.clusters.refresh(&state).await.expect("computed");
    let later = now.checked_add(SignedDuration::from_mins(5)).expect("instant");
    assert_eq!(vigie_server::alerts::evaluate_rules(&state, later).await.expect("evaluated"), 1);
    let alerts = app.get("/api/v1/alerts", &app.lead).await.expect(200).body;
    let summary = alerts["items"][0]["summary"].as_str().expect("summary");
    assert!(summary.starts_with("9 tickets in 24 h look like '") && summary.contains("erreur"), "{summary}");
    assert!(!summary.contains("more cluster"), "the card payments were reported already: {summary}");
    assert_eq!(vigie_server::alerts::evaluate_rules(&state, later).await.expect("evaluated"), 0);

    let weekly = app.get("/api/v1/reports/weekly", &app.lead).await.expect(200).body;
    let recurring = &weekly["recurring_clusters"];
    assert_eq!(recurring.as_array().map(Vec::len), Some(2), "{weekly}");
    assert_eq!(recurring[1]["tickets_4_weeks"], 9, "the error pages, second");
    assert_eq!(recurring[0]["tickets_4_weeks"], 32);
    assert_eq!(recurring[0]["weekly"], json!([18, 7, 7, 0]));
    assert_eq!(recurring[0]["open"], 12);
    assert_eq!(recurring[0]["samples"][0], today[11].as_str());
    let back_office = app.token(vigie_core::Role::Agent, &["back_office"], "bob").await;
    let weekly = app.get("/api/v1/reports/weekly", &back_office).await.expect(200).body;
    assert_eq!(weekly["recurring_clusters"], json!([]), "none of its tickets are the back office's");
}

crate::on_both_backends!(
    similar_open_tickets_come_as_one_batch,
    a_cluster_spike_is_an_alert_and_recurring_clusters_are_reviewed
);
