//! Outcome classifiers: which completed runs count as errors.

/// Decides whether a completed run's output counts as an error.
///
/// A run that ends in an error is still a sample (its busy time was spent);
/// it is also counted in [`Stats::errors`](crate::Stats::errors). Implement
/// this on a marker type of your own for outputs other than `Result`, and
/// pick it with [`Timed::classify`](crate::Timed::classify).
///
/// ```
/// use perf_timer::{Classify, TimedExt as _};
///
/// /// An HTTP status of 500 or more is an error.
/// struct ServerError;
/// impl Classify<u16> for ServerError {
///     fn is_error(status: &u16) -> bool {
///         *status >= 500
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let status = async { 503_u16 }.timed("handler").classify::<ServerError>().await;
/// assert_eq!(status, 503);
/// assert_eq!(perf_timer::global().stats("handler").unwrap().errors(), 1);
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not classify outputs of type `{T}`",
    label = "`{Self}` cannot tell whether a `{T}` is an error",
    note = "`ErrOutput` classifies `Result`s; `#[timed]` takes a return type named `Result` for one: for a type of your own, write `#[timed(errors = false)]`"
)]
pub trait Classify<T> {
    /// Whether `output` is an error.
    fn is_error(output: &T) -> bool;
}

/// No output is an error: the default classifier.
///
/// ```
/// use perf_timer::{NoErrors, Classify};
/// assert!(!<NoErrors as Classify<Result<(), ()>>>::is_error(&Err(())));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoErrors;

impl<T> Classify<T> for NoErrors {
    #[inline(always)]
    fn is_error(_: &T) -> bool {
        false
    }
}

/// `Err(_)` is an error: the classifier of
/// [`TimedExt::timed_result`](crate::TimedExt::timed_result).
///
/// ```
/// use perf_timer::{Classify, ErrOutput};
/// assert!(<ErrOutput as Classify<Result<(), ()>>>::is_error(&Err(())));
/// assert!(!<ErrOutput as Classify<Result<(), ()>>>::is_error(&Ok(())));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrOutput;

impl<T, E> Classify<Result<T, E>> for ErrOutput {
    #[inline(always)]
    fn is_error(output: &Result<T, E>) -> bool {
        output.is_err()
    }
}
