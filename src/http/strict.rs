//! Strict query strings: a documented route refuses a query parameter it
//! does not take with 400 naming it, as bodies refuse unknown fields. What
//! each route takes is read from the OpenAPI document, which is generated
//! from the same code as the handlers, so the two cannot drift: a handler
//! whose parameters the document lacks fails its tests. Pages, static
//! files and the health probes ignore what they do not use.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    response::{IntoResponse, Response},
};
use futures_util::future::{Either, Ready, ready};
use tower::{Layer, Service};
use utoipa::openapi::{
    OpenApi,
    path::{Operation, ParameterIn},
};

use super::ApiError;

/// The query parameters of each documented operation, by method and route.
#[derive(Debug, Clone, Default)]
pub struct KnownQueries(Arc<HashMap<(Method, String), Vec<String>>>);

impl KnownQueries {
    /// Reads every operation's query parameters from the document.
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let mut known = HashMap::new();
        // The API's and the compatible doors' routes; the operations routes
        // (`/healthz`, `/readyz`) are probes that ignore what they are sent.
        let api = doc.paths.paths.iter().filter(|(path, _)| path.starts_with("/v1/") || path.starts_with("/api/"));
        for (path, item) in api {
            let shared = item.parameters.iter().flatten();
            let operations: [(Method, &Option<Operation>); 5] = [
                (Method::GET, &item.get),
                (Method::PUT, &item.put),
                (Method::POST, &item.post),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let names = shared
                    .clone()
                    .chain(operation.parameters.iter().flatten())
                    .filter(|p| matches!(p.parameter_in, ParameterIn::Query))
                    .map(|p| p.name.clone())
                    .collect();
                known.insert((method, path.clone()), names);
            }
        }
        Self(Arc::new(known))
    }

    /// The first parameter of `query` that the route does not take (none
    /// for a route the document does not have).
    pub fn unknown(&self, method: &Method, route: &str, query: &str) -> Option<String> {
        let names = self.0.get(&(method.clone(), route.to_owned()))?;
        form_urlencoded::parse(query.as_bytes())
            .map(|(name, _)| name)
            .find(|name| !names.iter().any(|known| known == name))
            .map(|name| name.into_owned())
    }
}

/// Refuses unknown query parameters (a route layer: the matched route is known).
#[derive(Debug, Clone)]
pub struct StrictQueryLayer(pub KnownQueries);

impl<S> Layer<S> for StrictQueryLayer {
    type Service = StrictQuery<S>;

    fn layer(&self, inner: S) -> Self::Service {
        StrictQuery { inner, known: self.0.clone() }
    }
}

/// See [`StrictQueryLayer`].
#[derive(Debug, Clone)]
pub struct StrictQuery<S> {
    inner: S,
    known: KnownQueries,
}

impl<S> Service<Request> for StrictQuery<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let unknown = match (request.uri().query(), request.extensions().get::<MatchedPath>()) {
            (Some(query), Some(route)) => self.known.unknown(request.method(), route.as_str(), query),
            _ => None,
        };
        match unknown {
            Some(name) => {
                let message = format!("{name}: is not a query parameter of this route");
                Either::Left(ready(Ok(ApiError::bad_request(&name, message).into_response())))
            }
            None => Either::Right(self.inner.call(request)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_documented_parameters_pass() {
        let mut known = HashMap::new();
        known.insert((Method::GET, "/v1/things".to_owned()), vec!["limit".to_owned(), "q".to_owned()]);
        known.insert((Method::POST, "/v1/things".to_owned()), vec![]);
        let known = KnownQueries(Arc::new(known));
        assert_eq!(known.unknown(&Method::GET, "/v1/things", "limit=5&q=x"), None);
        assert_eq!(known.unknown(&Method::GET, "/v1/things", "q=x&contact=a").as_deref(), Some("contact"));
        assert_eq!(known.unknown(&Method::POST, "/v1/things", "limit=5").as_deref(), Some("limit"));
        assert_eq!(known.unknown(&Method::GET, "/inbox", "anything=1"), None, "pages are not checked");
        assert_eq!(known.unknown(&Method::GET, "/v1/things", "lim%69t=5"), None, "names are decoded");
    }
}
