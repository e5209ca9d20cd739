//! File uploads and downloads, which the generated client cannot do: uploads
//! are `multipart/form-data` (a JSON part named after the entity plus a
//! `file` part), and a download must stream instead of landing in memory.
//!
//! Both go through the shared runtime like every generated request, so they
//! carry the credentials, count against the rate limit and show up in the
//! metrics. PensionPro allows at most two uploads and two downloads at once
//! per firm; a client (with its clones) holds a slot from sending the request
//! until an upload's answer has arrived, or until a download's body has been
//! read to the end or dropped, so an application cannot exceed the limit
//! however many transfers it starts.
//!
//! Download endpoints are not documented (specs/pensionpro/evidence/FACTS.md section 13), so
//! [`Client::download`] takes the path or URL a file record points to. The
//! credentials are only sent to the configured PensionPro host: a URL on any
//! other host (a pre-signed storage link) is fetched without them.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use client_core::Operation;
use client_core::call::{CallOptions, with_call};
use client_core::error::{ERROR_BODY_LIMIT, ErrorContext, snippet};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use pensionpro_client::types;
use reqwest::header::{ACCEPT, HeaderValue};
use reqwest::multipart::{Form, Part};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::OwnedSemaphorePermit;

use crate::client::Client;
use crate::error::{DOWNLOAD, Error, Result, parse_error_body};

static DOWNLOAD_OPERATION: Operation = DOWNLOAD;

/// The metadata of a file an entity can hold, and where it is uploaded.
pub trait FileMetadata: Serialize + DeserializeOwned + Send + Sync {
    /// The name of the multipart part that carries the metadata JSON.
    const PART: &'static str;
    /// The generated operation id of the upload (for errors and limits).
    const OPERATION_ID: &'static str;
    /// The upload path.
    const PATH: &'static str;
}

impl FileMetadata for types::ProjectFile {
    const PART: &'static str = "ProjectFile";
    const OPERATION_ID: &'static str = "create_project_file";
    const PATH: &'static str = "/v2/projectfiles";
}

impl FileMetadata for types::DistributionFile {
    const PART: &'static str = "DistributionFile";
    const OPERATION_ID: &'static str = "create_distribution_file";
    const PATH: &'static str = "/v2/distributionfiles";
}

impl FileMetadata for types::LegalPlanFile {
    const PART: &'static str = "LegalPlanFile";
    const OPERATION_ID: &'static str = "create_legal_plan_file";
    const PATH: &'static str = "/v2/legalplanfiles";
}

impl FileMetadata for types::AdminFormPlanFile {
    const PART: &'static str = "AdminFormPlanFile";
    const OPERATION_ID: &'static str = "create_admin_form_plan_file";
    const PATH: &'static str = "/v2/adminformplanfiles";
}

enum Source {
    Bytes(Bytes),
    Stream {
        stream: BoxStream<'static, io::Result<Bytes>>,
        length: Option<u64>,
    },
}

/// The content of a file to upload: bytes in memory, or a reader or stream
/// that is sent as it is read.
pub struct FileSource {
    name: String,
    content_type: Option<String>,
    source: Source,
}

impl fmt::Debug for FileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.source {
            Source::Bytes(bytes) => format!("{} bytes", bytes.len()),
            Source::Stream { length, .. } => match length {
                Some(length) => format!("stream of {length} bytes"),
                None => "stream".to_owned(),
            },
        };
        f.debug_struct("FileSource")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("source", &kind)
            .finish()
    }
}

impl FileSource {
    /// A file held in memory.
    pub fn from_bytes(name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Self {
            name: name.into(),
            content_type: None,
            source: Source::Bytes(bytes.into()),
        }
    }

    /// A file read from `reader` while it is sent (a `tokio::fs::File`, a pipe).
    pub fn from_reader(name: impl Into<String>, reader: impl AsyncRead + Send + 'static) -> Self {
        Self::from_stream(name, tokio_util::io::ReaderStream::new(reader))
    }

    /// A file sent chunk by chunk as `stream` yields it.
    pub fn from_stream(
        name: impl Into<String>,
        stream: impl Stream<Item = io::Result<Bytes>> + Send + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            content_type: None,
            source: Source::Stream {
                stream: stream.boxed(),
                length: None,
            },
        }
    }

    /// The length of a streamed file, when known, so the request can say it.
    #[must_use]
    pub fn with_length(mut self, length: u64) -> Self {
        if let Source::Stream { length: known, .. } = &mut self.source {
            *known = Some(length);
        }
        self
    }

    /// The media type of the file (default `application/octet-stream`).
    #[must_use]
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    fn into_part(self) -> Result<Part> {
        let part = match self.source {
            Source::Bytes(bytes) => {
                let length = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
                Part::stream_with_length(reqwest::Body::from(bytes), length)
            }
            Source::Stream {
                stream,
                length: Some(length),
            } => Part::stream_with_length(reqwest::Body::wrap_stream(stream), length),
            Source::Stream {
                stream,
                length: None,
            } => Part::stream(reqwest::Body::wrap_stream(stream)),
        };
        let content_type = self
            .content_type
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        part.file_name(self.name)
            .mime_str(&content_type)
            .map_err(|_| invalid(format!("`{content_type}` is not a media type")))
    }
}

fn invalid(message: String) -> Error {
    Error::invalid_request(message)
}

impl Client {
    /// Uploads a file with its metadata (`ProjectFile`, `DistributionFile`,
    /// `LegalPlanFile` or `AdminFormPlanFile`) and returns the created record.
    ///
    /// The upload waits for one of the two upload slots. It is not retried:
    /// a POST may have created the record even when the answer was lost.
    ///
    /// ```no_run
    /// # async fn demo(client: pensionpro::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use pensionpro::files::FileSource;
    /// use pensionpro::types::ProjectFile;
    ///
    /// let metadata = ProjectFile {
    ///     project_id: Some(42),
    ///     title: Some("Census 2024".into()),
    ///     ..ProjectFile::default()
    /// };
    /// let file = tokio::fs::File::open("census.csv").await?;
    /// let created = client
    ///     .upload(&metadata, FileSource::from_reader("census.csv", file).with_content_type("text/csv"))
    ///     .await?;
    /// println!("uploaded as {:?}", created.id);
    /// # Ok(()) }
    /// ```
    pub async fn upload<T: FileMetadata>(&self, metadata: &T, file: FileSource) -> Result<T> {
        let operation = pensionpro_client::OPERATIONS.get(T::OPERATION_ID);
        let json = serde_json::to_vec(metadata)
            .map_err(|error| invalid(format!("the metadata cannot be serialised: {error}")))?;
        let metadata_part = Part::bytes(json)
            .mime_str("application/json")
            .map_err(|_| invalid("application/json was refused as a media type".to_owned()))?;
        let form = Form::new()
            .part(T::PART, metadata_part)
            .part("file", file.into_part()?);
        let request = self
            .inner
            .http
            .post(format!("{}{}", self.inner.base_url, T::PATH))
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .multipart(form)
            .build()
            .map_err(|error| invalid(format!("the upload request cannot be built: {error}")))?;

        let _slot = self.slot(&self.inner.uploads).await?;
        let options = CallOptions::default().with_attempt_timeout(self.inner.file_timeout);
        let (outcome, report) = with_call(
            options,
            self.inner
                .runtime
                .exec(&self.inner.http, request, operation),
        )
        .await;
        let mut context = ErrorContext::from_report(&report);
        let response = match outcome {
            Err(exceeded) => {
                return Err(Error::Deadline {
                    deadline: exceeded.deadline,
                    context: Box::new(context),
                });
            }
            Ok(Err(source)) => {
                return Err(Error::Transport {
                    source,
                    context: Box::new(context),
                });
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        context.status = Some(status.as_u16());
        if !status.is_success() {
            return Err(
                error_from_response(response, context, &self.inner.runtime.redactor()).await,
            );
        }
        let body = response.bytes().await.map_err(|source| Error::Transport {
            source,
            context: Box::new(context.clone()),
        })?;
        serde_json::from_slice(&body).map_err(|source| {
            context.body_snippet = Some(self.inner.runtime.redactor().redact(&snippet(&body)));
            Error::Decode {
                source,
                context: Box::new(context),
            }
        })
    }

    /// Starts downloading the file at `location`: a path on the PensionPro
    /// host (`/v2/...`) or an absolute URL. The body is not read yet: the
    /// returned [`Download`] streams it, holding one of the two download
    /// slots until it is read to the end or dropped.
    pub async fn download(&self, location: &str) -> Result<Download> {
        let (url, credentials) = self.resolve(location)?;
        let slot = self.slot(&self.inner.downloads).await?;
        let request =
            // Asking for any type (not JSON) tells the runtime this body is
            // streamed, so its cap on buffered bodies does not apply.
            self.inner.http.get(url.clone()).header(ACCEPT, HeaderValue::from_static("*/*")).build().map_err(|error| {
                invalid(format!("the download request cannot be built: {error}"))
            })?;
        let mut context = ErrorContext::default();
        context.operation_id = DOWNLOAD.id;
        context.method = DOWNLOAD.method;
        context.path = DOWNLOAD.path;
        let response = if credentials {
            let options = CallOptions::default().with_attempt_timeout(self.inner.file_timeout);
            let (outcome, report) = with_call(
                options,
                self.inner
                    .runtime
                    .exec(&self.inner.http, request, &DOWNLOAD_OPERATION),
            )
            .await;
            context = ErrorContext::from_report(&report);
            match outcome {
                Err(exceeded) => {
                    return Err(Error::Deadline {
                        deadline: exceeded.deadline,
                        context: Box::new(context),
                    });
                }
                Ok(result) => result,
            }
        } else {
            let mut request = request;
            *request.timeout_mut() = Some(self.inner.file_timeout);
            context.attempts = 1;
            self.inner.http.execute(request).await
        };
        let response = response.map_err(|source| Error::Transport {
            source,
            context: Box::new(context.clone()),
        })?;
        context.status = Some(response.status().as_u16());
        if !response.status().is_success() {
            return Err(
                error_from_response(response, context, &self.inner.runtime.redactor()).await,
            );
        }
        Ok(Download {
            content_length: response.content_length(),
            content_type: response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            body: response.bytes_stream().boxed(),
            slot: Some(slot),
            context,
            finished: false,
        })
    }

    /// Downloads the file at `location` into `writer`, chunk by chunk, and
    /// returns the number of bytes written.
    pub async fn download_to<W>(&self, location: &str, writer: &mut W) -> Result<u64>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let mut download = self.download(location).await?;
        let mut written: u64 = 0;
        while let Some(chunk) = download.next().await {
            let chunk = chunk?;
            writer.write_all(&chunk).await.map_err(|source| Error::Io {
                source,
                context: Box::new(download.context.clone()),
            })?;
            written = written.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        }
        writer.flush().await.map_err(|source| Error::Io {
            source,
            context: Box::new(download.context.clone()),
        })?;
        Ok(written)
    }

    /// Waits for a transfer slot.
    async fn slot(
        &self,
        slots: &std::sync::Arc<tokio::sync::Semaphore>,
    ) -> Result<OwnedSemaphorePermit> {
        // The semaphores are never closed; the error cannot happen, but it
        // must not panic either.
        std::sync::Arc::clone(slots)
            .acquire_owned()
            .await
            .map_err(|_| Error::config("the file transfer limiter was closed"))
    }

    /// The URL of `location` and whether it is on the PensionPro host (and
    /// so gets the credentials).
    fn resolve(&self, location: &str) -> Result<(reqwest::Url, bool)> {
        let base = reqwest::Url::parse(&self.inner.base_url)
            .map_err(|error| Error::config(format!("invalid base URL: {error}")))?;
        let location = location.trim();
        let url = if location.starts_with("http://") || location.starts_with("https://") {
            reqwest::Url::parse(location)
        } else {
            let path = location.trim_start_matches('/');
            reqwest::Url::parse(&format!("{}/{path}", self.inner.base_url))
        }
        .map_err(|error| invalid(format!("`{location}` is not a file location: {error}")))?;
        let same_origin = url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default();
        Ok((url, same_origin))
    }
}

/// Reads (at most 64 KiB of) an error answer and maps its status.
async fn error_from_response(
    response: reqwest::Response,
    mut context: ErrorContext,
    redactor: &client_core::call::Redactor,
) -> Error {
    let status = response.status().as_u16();
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        body.extend_from_slice(&chunk);
        if body.len() >= ERROR_BODY_LIMIT {
            break;
        }
    }
    context.body_snippet = Some(redactor.redact(&snippet(&body)));
    Error::from_status(status, parse_error_body(&body), context)
}

/// A file being downloaded: a stream of its chunks. It holds one of the two
/// download slots until the body is read to the end, fails, or is dropped.
pub struct Download {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    slot: Option<OwnedSemaphorePermit>,
    content_length: Option<u64>,
    content_type: Option<String>,
    context: ErrorContext,
    finished: bool,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("content_length", &self.content_length)
            .field("content_type", &self.content_type)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl Download {
    /// The size the server announced, if it did.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The media type the server announced, if it did.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }
}

impl Stream for Download {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        match this.body.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => Poll::Ready(Some(Ok(chunk))),
            Poll::Ready(Some(Err(source))) => {
                this.finished = true;
                this.slot = None;
                Poll::Ready(Some(Err(Error::Transport {
                    source,
                    context: Box::new(this.context.clone()),
                })))
            }
            Poll::Ready(None) => {
                this.finished = true;
                this.slot = None;
                Poll::Ready(None)
            }
        }
    }
}
