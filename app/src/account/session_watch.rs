//! Warns before the session ends for inactivity and offers "Rester connecté".
//!
//! The server is the authority: the page asks how long the session has left, shows a warning
//! when less than two minutes remain (so at least 60 s before the end), and a click on
//! "Rester connecté" extends it. When the session has ended, the page says so and links to the
//! login page; whatever was being typed stays where it is.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Seconds before the session ends: for inactivity, and in any case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTime {
    pub idle_left_secs: i64,
    pub absolute_left_secs: i64,
}

/// Warn when this many seconds are left.
pub const WARN_BEFORE_SECS: i64 = 120;

#[server(endpoint = "session/time")]
pub async fn get_session_time() -> Result<Option<SessionTime>, AppError> {
    use crate::account::session;
    // Anyone: without a session there is no time left to tell.
    crate::server::serve_anyone(|state| async move {
        let Some(current) = session::current() else { return Ok(None) };
        session::time_left(&state.db, &state.config, &current.token_hash).await.map_err(|e| AppError::internal("session time", e))
    })
    .await
}

#[server(endpoint = "session/extend")]
pub async fn extend_session() -> Result<Option<SessionTime>, AppError> {
    use crate::account::session;
    crate::server::serve_anyone(|state| async move {
        let Some(current) = session::current() else { return Ok(None) };
        session::touch(&state.db, &current.token_hash).await?;
        session::time_left(&state.db, &state.config, &current.token_hash).await.map_err(|e| AppError::internal("session time", e))
    })
    .await
}

#[component]
pub fn SessionWatch() -> impl IntoView {
    // Seconds left before the idle timeout, as last learned from the server; None until known.
    let left = RwSignal::new(None::<i64>);
    let ended = RwSignal::new(false);
    let extend = ServerAction::<ExtendSession>::new();

    Effect::new(move |_| {
        if let Some(Ok(answer)) = extend.value().get() {
            match answer {
                Some(time) => left.set(Some(time.idle_left_secs.min(time.absolute_left_secs))),
                None => ended.set(true),
            }
        }
    });

    // Browser only: ask the server once, then count down every second; near the end, ask the
    // server again (another tab may have extended the session).
    Effect::new(move |started: Option<()>| {
        if started.is_some() {
            return;
        }
        // The header (and this watch with it) is rebuilt on navigation: answers arriving for
        // a watch that is gone are dropped, and its countdown stops with it.
        let learn = move |answer: Result<Option<SessionTime>, AppError>| match answer {
            Ok(Some(time)) => {
                let _ = left.try_set(Some(time.idle_left_secs.min(time.absolute_left_secs)));
            }
            Ok(None) => {
                let _ = ended.try_set(true);
            }
            Err(_) => {}
        };
        leptos::task::spawn_local(async move { learn(get_session_time().await) });
        let ticking = set_interval_with_handle(
            move || {
                let Some(Some(secs)) = left.try_get_untracked() else { return };
                let next = secs - 1;
                left.set(Some(next));
                if next == WARN_BEFORE_SECS || next == 5 || next <= 0 {
                    leptos::task::spawn_local(async move { learn(get_session_time().await) });
                }
            },
            std::time::Duration::from_secs(1),
        )
        .ok();
        on_cleanup(move || {
            if let Some(ticking) = ticking {
                ticking.clear();
            }
        });
    });

    move || {
        if ended.get() {
            return Some(
                view! {
                    <div class="session-banner" role="alert">
                        <p>
                            "Votre session a expiré. "
                            <a href="/connexion?expire=1">"Reconnectez-vous"</a>
                            " : ce que vous avez saisi sur cette page n'est pas perdu."
                        </p>
                    </div>
                }
                .into_any(),
            );
        }
        let secs = left.get()?;
        (secs <= WARN_BEFORE_SECS).then(|| {
            let minutes = secs.max(0) / 60;
            let seconds = secs.max(0) % 60;
            let remaining = if minutes > 0 { format!("{minutes} min {seconds:02} s") } else { format!("{seconds} s") };
            view! {
                <div class="session-banner" role="alertdialog" aria-labelledby="session-titre" aria-describedby="session-texte">
                    <h2 id="session-titre">"Votre session va bientôt expirer"</h2>
                    <p id="session-texte">"Sans activité, vous serez déconnecté dans " {remaining} "."</p>
                    <ActionForm action=extend attr:class="inline-form">
                        <button type="submit" class="button" autofocus=true>"Rester connecté"</button>
                    </ActionForm>
                </div>
            }
            .into_any()
        })
    }
}
