//! The request runtime that generated clients forward every request to.
//!
//! This is the seam: generated `ClientHooks::exec` calls [`Runtime::exec`] for
//! every request of every generated client, so behaviour added here (auth,
//! limits, retries) applies everywhere at once.

use crate::Operation;

/// Shared per-client runtime state; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Runtime {
    _private: (),
}

impl Runtime {
    /// A runtime that sends each request once, as built.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends one request of `operation` with `client`.
    ///
    /// progenitor adds an `api-version` header carrying the document's
    /// `info.version` to every request; neither vendor defines it, so it is
    /// removed before the request leaves.
    pub async fn exec(
        &self,
        client: &reqwest::Client,
        mut request: reqwest::Request,
        operation: &Operation,
    ) -> reqwest::Result<reqwest::Response> {
        let _ = operation;
        request.headers_mut().remove("api-version");
        client.execute(request).await
    }
}
