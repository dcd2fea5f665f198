use app::db::now_ms;

use crate::helpers::{both_backends, client, login, spawn_app, whoami, Backend};

const PASSWORD: &str = "correct horse battery staple";

async fn login_sets_an_httponly_samesite_lax_cookie_and_the_next_request_is_recognised(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("camille@exemple.fr", PASSWORD).await;

    let response = app.login("Camille@Exemple.fr", PASSWORD).await;

    assert!(response.status().is_success() || response.status().is_redirection(), "{}", response.status());
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("passerelle_session="));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "no Secure flag in development over http://127.0.0.1");
    assert_eq!(whoami(&app.client, &app.base).await.map(|u| u.display_name).as_deref(), Some("Camille Martin"));
    app.stop().await;
}
both_backends!(login_sets_an_httponly_samesite_lax_cookie_and_the_next_request_is_recognised);

async fn sessions_live_in_the_database_and_only_as_a_hash(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("camille@exemple.fr", PASSWORD).await;

    let response = app.login("camille@exemple.fr", PASSWORD).await;

    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    let token = cookie.split(';').next().unwrap().trim_start_matches("passerelle_session=");
    let stored: Vec<String> = sqlx::query_scalar("SELECT id_hash FROM sessions").fetch_all(app.db.pool()).await.unwrap();
    assert_eq!(stored, vec![app::account::session::token_hash(token)]);
    app.stop().await;
}
both_backends!(sessions_live_in_the_database_and_only_as_a_hash);

async fn logout_deletes_the_server_side_session(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("camille@exemple.fr", PASSWORD).await;
    let response = app.login("camille@exemple.fr", PASSWORD).await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();

    app.client.post(app.url("/api/session/logout")).header("content-type", "application/x-www-form-urlencoded").send().await.unwrap();

    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(count, 0);
    // Even a copy of the old cookie is worth nothing now.
    let replay = client();
    let who = replay
        .post(app.url("/api/session/current"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap()
        .json::<Option<app::account::login::HeaderUser>>()
        .await
        .unwrap();
    assert!(who.is_none());
    app.stop().await;
}
both_backends!(logout_deletes_the_server_side_session);

async fn a_wrong_password_and_an_unknown_account_get_the_same_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("camille@exemple.fr", PASSWORD).await;

    let wrong = login(&client(), &app.base, "camille@exemple.fr", "not the password at all").await;
    let unknown = login(&client(), &app.base, "personne@exemple.fr", PASSWORD).await;

    assert_eq!(wrong.status(), unknown.status());
    assert!(wrong.headers().get("set-cookie").is_none() && unknown.headers().get("set-cookie").is_none());
    assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());
    app.stop().await;
}
both_backends!(a_wrong_password_and_an_unknown_account_get_the_same_answer);

async fn an_idle_session_ends_after_the_idle_timeout(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("camille@exemple.fr", PASSWORD).await;
    app.login("camille@exemple.fr", PASSWORD).await;
    assert!(whoami(&app.client, &app.base).await.is_some());

    let thirty_one_minutes_ago = now_ms() - 31 * 60 * 1000;
    sqlx::query("UPDATE sessions SET last_seen_at = $1").bind(thirty_one_minutes_ago).execute(app.db.pool()).await.unwrap();

    assert!(whoami(&app.client, &app.base).await.is_none());
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(count, 0, "the expired session is deleted");
    app.stop().await;
}
both_backends!(an_idle_session_ends_after_the_idle_timeout);

async fn a_session_ends_after_its_absolute_lifetime_even_when_active(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_user("camille@exemple.fr", PASSWORD).await;
    app.login("camille@exemple.fr", PASSWORD).await;

    let thirteen_hours_ago = now_ms() - 13 * 3600 * 1000;
    sqlx::query("UPDATE sessions SET created_at = $1, last_seen_at = $2")
        .bind(thirteen_hours_ago)
        .bind(now_ms())
        .execute(app.db.pool())
        .await
        .unwrap();

    assert!(whoami(&app.client, &app.base).await.is_none());
    app.stop().await;
}
both_backends!(a_session_ends_after_its_absolute_lifetime_even_when_active);
