//! Sign-in and sign-out.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::{HOST, ORIGIN, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::form::{CsrfForm, cross_site};
use super::session::{self, Lifetimes, safe_next};
use super::{fail, render};
use crate::app::AppState;
use crate::http::client_ip::ClientIp;
use crate::store::moderators;

#[derive(Template)]
#[template(path = "web/login.html")]
struct LoginPage<'a> {
    next: &'a str,
    name: &'a str,
    error: Option<&'a str>,
}

fn login_page(status: StatusCode, next: &str, name: &str, error: Option<&str>) -> Response {
    let mut res = render(&LoginPage { next, name, error });
    *res.status_mut() = status;
    res
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn page(Query(q): Query<LoginQuery>) -> Response {
    let next = safe_next(q.next.as_deref());
    login_page(StatusCode::OK, &next, "", None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// A sign-in form posted from another site is refused: that would sign the victim's
/// browser into the attacker's account (login CSRF).
fn foreign_origin(headers: &HeaderMap) -> bool {
    if cross_site(headers) {
        return true;
    }
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(o), Some(h)) => {
            let authority = o.split_once("://").map(|(_, rest)| rest).unwrap_or(o);
            authority != h
        }
        _ => false,
    }
}

pub async fn submit(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    let name = f.name.trim();
    if foreign_origin(&headers) {
        return fail(
            StatusCode::FORBIDDEN,
            "forbidden",
            "cross-site sign-in refused",
            false,
        );
    }
    match app.limits.check_sign_in(ip.as_deref(), name) {
        Err(e) => {
            tracing::warn!(moderator = %name, "console sign-in rate-limited");
            return login_page(StatusCode::TOO_MANY_REQUESTS, &next, name, Some(&e.message));
        }
        Ok(delay) if !delay.is_zero() => tokio::time::sleep(delay).await,
        Ok(_) => {}
    }
    if name.is_empty() || f.password.is_empty() {
        return login_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &next,
            name,
            Some("Enter your name and password."),
        );
    }
    let moderator = match moderators::by_password(app.store.reader(), name, &f.password).await {
        Ok(Some(m)) => m,
        Ok(None) => {
            app.limits.sign_in_failed(ip.as_deref(), name);
            tracing::info!(moderator = %name, "console sign-in failed");
            return login_page(
                StatusCode::UNAUTHORIZED,
                &next,
                name,
                Some("Wrong name or password."),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "console sign-in lookup failed");
            return fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "sign-in failed",
                false,
            );
        }
    };
    let console = app.live().config.console.clone();
    let life = Lifetimes::from_config(&console);
    let ua = headers.get(USER_AGENT).and_then(|v| v.to_str().ok());
    match session::create(app.store.writer(), moderator, ua, life).await {
        Ok(s) => {
            tracing::info!(moderator = %s.moderator.name, "console sign-in");
            let cookie = session::set_cookie(Some(&s), console.secure_cookies, life);
            ([(SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "creating a console session failed");
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "sign-in failed",
                false,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(State(app): State<AppState>, f: CsrfForm<Empty>) -> Response {
    if let Err(e) = session::delete(app.store.writer(), &f.session).await {
        tracing::error!(error = %e, "ending a console session failed");
    }
    let console = app.live().config.console.clone();
    let cookie = session::set_cookie(
        None,
        console.secure_cookies,
        Lifetimes::from_config(&console),
    );
    ([(SET_COOKIE, cookie)], Redirect::to("/console/login")).into_response()
}
