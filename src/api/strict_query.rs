//! R14 for query strings: a parameter a route does not take is refused with 400 on every route,
//! so a client asking an older server for something it does not know (`?dry_run=true` before
//! previews existed) is told so, and never has the plain request carried out instead. The names
//! each route takes are read once from the OpenAPI document, which describes every route: the
//! document and the refusal cannot disagree.

use super::problem::ApiError;
use crate::domain::FieldError;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// The query parameters each documented operation takes, by method and path template.
#[derive(Clone, Debug, Default)]
pub struct QueryNames(Arc<HashMap<(Method, String), Vec<String>>>);

impl QueryNames {
    /// Reads them from the OpenAPI document.
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        use utoipa::openapi::path::{HttpMethod, ParameterIn};
        let mut names = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let shared = item.parameters.as_deref().unwrap_or_default();
            let operations = [
                (Method::GET, HttpMethod::Get, &item.get),
                (Method::POST, HttpMethod::Post, &item.post),
                (Method::PUT, HttpMethod::Put, &item.put),
                (Method::PATCH, HttpMethod::Patch, &item.patch),
                (Method::DELETE, HttpMethod::Delete, &item.delete),
            ];
            for (method, _, operation) in operations {
                let Some(op) = operation else { continue };
                let takes: Vec<String> = shared
                    .iter()
                    .chain(op.parameters.as_deref().unwrap_or_default())
                    .filter(|p| matches!(p.parameter_in, ParameterIn::Query))
                    .map(|p| p.name.clone())
                    .collect();
                names.insert((method, path.clone()), takes);
            }
        }
        QueryNames(Arc::new(names))
    }

    /// The first parameter of `query` that the operation does not take, with what it takes;
    /// `None` for a route the document does not describe (the console's pages).
    fn unknown(&self, method: &Method, route: &str, query: &str) -> Option<(String, &[String])> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let takes = self.0.get(&(method.clone(), route.to_owned()))?;
        form_urlencoded::parse(query.as_bytes())
            .map(|(name, _)| name)
            .find(|name| !takes.iter().any(|t| t == name))
            .map(|name| (name.into_owned(), takes.as_slice()))
    }
}

/// Adds [`StrictQuery`] around each route.
#[derive(Clone)]
pub(super) struct StrictQueryLayer(pub(super) QueryNames);

impl<S> Layer<S> for StrictQueryLayer {
    type Service = StrictQuery<S>;

    fn layer(&self, inner: S) -> StrictQuery<S> {
        StrictQuery {
            inner,
            names: self.0.clone(),
        }
    }
}

/// Refuses a request whose query string names a parameter its route does not take.
#[derive(Clone)]
pub(super) struct StrictQuery<S> {
    inner: S,
    names: QueryNames,
}

impl<S> Service<Request> for StrictQuery<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The check API's requests carry no query string: they pass without a lookup.
        let refused = match (req.uri().query(), req.extensions().get::<MatchedPath>()) {
            (Some(query), Some(route)) => self
                .names
                .unknown(req.method(), route.as_str(), query)
                .map(|(name, takes)| {
                    let expected = if takes.is_empty() {
                        "this route takes no query parameter".to_owned()
                    } else {
                        format!("this route takes {}", takes.join(", "))
                    };
                    let message = format!("is not a query parameter of this route; {expected}");
                    ApiError::from(vec![FieldError::new(name, message)]).into_response()
                }),
            _ => None,
        };
        match refused {
            Some(answer) => Either::Left(ready(Ok(answer))),
            None => Either::Right(self.inner.call(req)),
        }
    }
}
