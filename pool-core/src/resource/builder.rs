//! `ResourcePoolBuilder`, the effective `ResourcePoolConfig`, and `ResourcePoolBuildError`.

use std::fmt;
use std::time::Duration;

use std::sync::Arc;

use pool_metrics::{Clock, MonotonicClock};

use crate::resource::manager::Manager;
use crate::resource::pool::ResourcePool;

/// The pool's effective configuration, readable back with [`ResourcePool::config`].
///
/// # Examples
///
/// ```
/// # use pool_core::{Manager, ResourcePool};
/// # struct M; impl Manager for M { type Resource = (); type Error = String;
/// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
/// let pool = ResourcePool::builder(M).max_size(4).build().unwrap();
/// assert_eq!(pool.config().max_size, 4);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResourcePoolConfig {
    /// Most resources alive at once (idle + in use + being created).
    pub max_size: usize,
    /// Idle resources [`ResourcePool::maintain`] keeps ready.
    pub min_idle: usize,
    /// Longest wait in `get`.
    pub acquire_timeout: Duration,
    /// Budget passed to [`Manager::create`].
    pub create_timeout: Duration,
    /// Idle time after which a resource is destroyed; `None` keeps it.
    pub idle_timeout: Option<Duration>,
    /// Age after which a resource is destroyed; `None` keeps it.
    pub max_lifetime: Option<Duration>,
    /// Checkouts after which a resource is destroyed on return; `None` for unlimited.
    pub max_uses: Option<u64>,
    /// Whether [`Manager::validate`] runs on every checkout (it always runs after a panic).
    pub test_on_checkout: bool,
}

impl ResourcePoolConfig {
    /// Default most resources alive at once.
    pub const DEFAULT_MAX_SIZE: usize = 10;
    /// Default idle resources kept warm by [`ResourcePool::maintain`].
    pub const DEFAULT_MIN_IDLE: usize = 0;
    /// Default longest wait in `get` before [`crate::GetError::Timeout`].
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default time budget handed to [`Manager::create`].
    pub const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default idle time after which a resource is destroyed (as r2d2: 10 minutes).
    pub const DEFAULT_IDLE_TIMEOUT: Option<Duration> = Some(Duration::from_secs(600));
    /// Default age after which a resource is destroyed (as r2d2: 30 minutes).
    pub const DEFAULT_MAX_LIFETIME: Option<Duration> = Some(Duration::from_secs(1800));
    /// Default uses after which a resource is destroyed: unlimited.
    pub const DEFAULT_MAX_USES: Option<u64> = None;

    pub(crate) fn defaults() -> Self {
        Self {
            max_size: Self::DEFAULT_MAX_SIZE,
            min_idle: Self::DEFAULT_MIN_IDLE,
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
            create_timeout: Self::DEFAULT_CREATE_TIMEOUT,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            max_lifetime: Self::DEFAULT_MAX_LIFETIME,
            max_uses: Self::DEFAULT_MAX_USES,
            test_on_checkout: false,
        }
    }
}

/// What is wrong with a pool configuration.
///
/// # Examples
///
/// ```
/// # use pool_core::{Manager, ResourcePool};
/// # struct M; impl Manager for M { type Resource = (); type Error = String;
/// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
/// let err = ResourcePool::builder(M).max_size(3).min_idle(5).build().unwrap_err();
/// assert_eq!(err.to_string(), "min_idle (5) must be <= max_size (3)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePoolBuildError {
    kind: ResourcePoolBuildErrorKind,
}

/// The kind of a [`ResourcePoolBuildError`].
///
/// # Examples
///
/// ```
/// # use pool_core::{ResourcePoolBuildErrorKind, Manager, ResourcePool};
/// # struct M; impl Manager for M { type Resource = (); type Error = String;
/// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
/// let err = ResourcePool::builder(M).max_size(0).build().unwrap_err();
/// assert_eq!(err.kind(), &ResourcePoolBuildErrorKind::ZeroMaxSize);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResourcePoolBuildErrorKind {
    /// `max_size` was 0.
    ZeroMaxSize,
    /// `min_idle` was larger than `max_size`.
    MinIdleAboveMaxSize {
        /// The requested `min_idle`.
        min_idle: usize,
        /// The requested `max_size`.
        max_size: usize,
    },
    /// A timeout or lifetime was zero; the field's name is given.
    ZeroDuration(&'static str),
    /// `max_uses` was `Some(0)`.
    ZeroMaxUses,
}

impl ResourcePoolBuildError {
    /// What was wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{ResourcePoolBuildErrorKind, Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// let err = ResourcePool::builder(M).max_uses(Some(0)).build().unwrap_err();
    /// assert_eq!(err.kind(), &ResourcePoolBuildErrorKind::ZeroMaxUses);
    /// ```
    #[must_use]
    pub fn kind(&self) -> &ResourcePoolBuildErrorKind {
        &self.kind
    }
}

impl fmt::Display for ResourcePoolBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ResourcePoolBuildErrorKind::ZeroMaxSize => f.write_str("max_size must be > 0, got 0"),
            ResourcePoolBuildErrorKind::MinIdleAboveMaxSize { min_idle, max_size } => {
                write!(f, "min_idle ({min_idle}) must be <= max_size ({max_size})")
            }
            ResourcePoolBuildErrorKind::ZeroDuration(field) => {
                write!(f, "{field} must be > 0, got 0ns (use None to disable it where allowed)")
            }
            ResourcePoolBuildErrorKind::ZeroMaxUses => {
                f.write_str("max_uses must be > 0, got 0 (use None for unlimited)")
            }
        }
    }
}

impl std::error::Error for ResourcePoolBuildError {}

/// Builder for [`ResourcePool`]; every knob has a `DEFAULT_*` constant on
/// [`ResourcePoolConfig`].
///
/// # Examples
///
/// ```
/// # use pool_core::{Manager, ResourcePool};
/// # struct M; impl Manager for M { type Resource = (); type Error = String;
/// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
/// use std::time::Duration;
///
/// let pool = ResourcePool::builder(M)
///     .max_size(16)
///     .min_idle(2)
///     .acquire_timeout(Duration::from_secs(2))
///     .max_uses(Some(1000))
///     .test_on_checkout(true)
///     .build()
///     .unwrap();
/// assert_eq!(pool.config().max_uses, Some(1000));
/// ```
#[must_use]
pub struct ResourcePoolBuilder<M> {
    manager: M,
    config: ResourcePoolConfig,
    clock: Arc<dyn Clock>,
}

impl<M> fmt::Debug for ResourcePoolBuilder<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourcePoolBuilder").field("config", &self.config).finish_non_exhaustive()
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.config.$name = value;
            self
        }
    };
}

impl<M: Manager> ResourcePoolBuilder<M> {
    pub(crate) fn new(manager: M) -> Self {
        Self {
            manager,
            config: ResourcePoolConfig::defaults(),
            clock: Arc::new(MonotonicClock::new()),
        }
    }

    /// Reads time from `clock` (default [`MonotonicClock`]) for idle timeouts, lifetimes,
    /// acquire timeouts and the acquire-wait histogram; tests pass a
    /// [`ManualClock`](crate::ManualClock) and advance it instead of sleeping. A blocked `get`
    /// still parks on the OS for the remaining time read from this clock.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// use pool_core::{DestroyReason, ManualClock};
    /// use std::time::Duration;
    /// let clock = ManualClock::new();
    /// let pool = ResourcePool::builder(M).clock(clock.clone()).build()?;
    /// drop(pool.get().unwrap());
    /// clock.advance(pool.config().idle_timeout.unwrap());
    /// drop(pool.get().unwrap()); // the idle one expired: a fresh one is created
    /// assert_eq!(pool.stats().destroyed_for(DestroyReason::IdleTimeout), 1);
    /// # Ok::<(), pool_core::ResourcePoolBuildError>(())
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    setter!(
        /// Most resources alive at once (default [`ResourcePoolConfig::DEFAULT_MAX_SIZE`]).
        ///
        /// # Examples
        ///
        /// ```
        /// # use pool_core::{Manager, ResourcePool};
        /// # struct M; impl Manager for M { type Resource = (); type Error = String;
        /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
        /// let pool = ResourcePool::builder(M).max_size(1).build()?;
        /// let held = pool.get().unwrap();
        /// assert!(pool.try_get().is_err(), "the one resource is out");
        /// # drop(held);
        /// # Ok::<(), pool_core::ResourcePoolBuildError>(())
        /// ```
        max_size: usize
    );
    setter!(
        /// Idle resources kept ready by [`ResourcePool::maintain`] (default 0).
        ///
        /// # Examples
        ///
        /// ```
        /// # use pool_core::{Manager, ResourcePool};
        /// # struct M; impl Manager for M { type Resource = (); type Error = String;
        /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
        /// let pool = ResourcePool::builder(M).min_idle(1).build()?;
        /// assert_eq!(pool.maintain(), Ok(1));
        /// assert_eq!(pool.stats().idle, 1);
        /// # Ok::<(), pool_core::ResourcePoolBuildError>(())
        /// ```
        min_idle: usize
    );
    setter!(
        /// Longest wait in `get` (default 30 s).
        ///
        /// # Examples
        ///
        /// ```
        /// # use pool_core::{Manager, ResourcePool};
        /// # struct M; impl Manager for M { type Resource = (); type Error = String;
        /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
        /// use std::time::Duration;
        /// let pool = ResourcePool::builder(M).max_size(1).acquire_timeout(Duration::from_millis(5)).build()?;
        /// let held = pool.get().unwrap();
        /// assert!(matches!(pool.get(), Err(pool_core::GetError::Timeout { .. })));
        /// # drop(held);
        /// # Ok::<(), pool_core::ResourcePoolBuildError>(())
        /// ```
        acquire_timeout: Duration
    );
    setter!(
        /// Budget passed to [`Manager::create`] (default 10 s).
        ///
        /// # Examples
        ///
        /// ```
        /// # use pool_core::{Manager, ResourcePool};
        /// # struct M; impl Manager for M { type Resource = (); type Error = String;
        /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
        /// use std::time::Duration;
        /// let pool = ResourcePool::builder(M).create_timeout(Duration::from_secs(1)).build()?;
        /// assert_eq!(pool.config().create_timeout, Duration::from_secs(1));
        /// # Ok::<(), pool_core::ResourcePoolBuildError>(())
        /// ```
        create_timeout: Duration
    );
    setter!(
        /// Idle time after which a resource is destroyed (default 10 min; `None` keeps it).
        ///
        /// # Examples
        ///
        /// ```
        /// # use pool_core::{Manager, ResourcePool};
        /// # struct M; impl Manager for M { type Resource = (); type Error = String;
        /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
        /// use pool_core::ManualClock;
        /// use std::time::Duration;
        /// let clock = ManualClock::new();
        /// let pool = ResourcePool::builder(M)
        ///     .idle_timeout(Some(Duration::from_secs(60)))
        ///     .clock(clock.clone())
        ///     .build()?;
        /// drop(pool.get().unwrap());
        /// clock.advance(Duration::from_secs(60));
        /// pool.maintain().unwrap();
        /// assert_eq!(pool.stats().idle, 0, "idle for 60 s: destroyed");
        /// # Ok::<(), pool_core::ResourcePoolBuildError>(())
        /// ```
        idle_timeout: Option<Duration>
    );
    setter!(
        /// Age after which a resource is destroyed (default 30 min; `None` keeps it).
        ///
        /// # Examples
        ///
        /// ```
        /// # use pool_core::{Manager, ResourcePool};
        /// # struct M; impl Manager for M { type Resource = (); type Error = String;
        /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
        /// use pool_core::ManualClock;
        /// use std::time::Duration;
        /// let clock = ManualClock::new();
        /// let pool = ResourcePool::builder(M)
        ///     .max_lifetime(Some(Duration::from_secs(60)))
        ///     .clock(clock.clone())
        ///     .build()?;
        /// let conn = pool.get().unwrap();
        /// clock.advance(Duration::from_secs(60));
        /// drop(conn); // too old: destroyed on return
        /// assert_eq!(pool.stats().size, 0);
        /// # Ok::<(), pool_core::ResourcePoolBuildError>(())
        /// ```
        max_lifetime: Option<Duration>
    );
    setter!(
        /// Checkouts after which a resource is destroyed on return (default unlimited).
        ///
        /// # Examples
        ///
        /// ```
        /// # use pool_core::{Manager, ResourcePool};
        /// # struct M; impl Manager for M { type Resource = (); type Error = String;
        /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
        /// let pool = ResourcePool::builder(M).max_uses(Some(1)).build()?;
        /// drop(pool.get().unwrap()); // used once: destroyed on return
        /// assert_eq!((pool.stats().size, pool.stats().created), (0, 1));
        /// # Ok::<(), pool_core::ResourcePoolBuildError>(())
        /// ```
        max_uses: Option<u64>
    );
    setter!(
        /// Run [`Manager::validate`] on every checkout (default off).
        ///
        /// # Examples
        ///
        /// ```
        /// # use pool_core::{Manager, ResourcePool};
        /// # struct M; impl Manager for M { type Resource = (); type Error = String;
        /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
        /// let pool = ResourcePool::builder(M).test_on_checkout(true).build()?;
        /// assert!(pool.config().test_on_checkout);
        /// # Ok::<(), pool_core::ResourcePoolBuildError>(())
        /// ```
        test_on_checkout: bool
    );

    /// Validates the configuration and builds the pool, empty. Nothing is created until the first
    /// `get` or [`ResourcePool::maintain`].
    ///
    /// # Errors
    ///
    /// [`ResourcePoolBuildError`] for `max_size == 0`, `min_idle > max_size`, a zero timeout or lifetime, or
    /// `max_uses == Some(0)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use pool_core::{Manager, ResourcePool};
    /// # struct M; impl Manager for M { type Resource = (); type Error = String;
    /// #   fn create(&self, _: std::time::Duration) -> Result<(), String> { Ok(()) } }
    /// let err = ResourcePool::builder(M).acquire_timeout(std::time::Duration::ZERO).build().unwrap_err();
    /// assert!(err.to_string().starts_with("acquire_timeout must be > 0"));
    /// ```
    pub fn build(self) -> Result<ResourcePool<M>, ResourcePoolBuildError> {
        let c = &self.config;
        let err = |kind| Err(ResourcePoolBuildError { kind });
        if c.max_size == 0 {
            return err(ResourcePoolBuildErrorKind::ZeroMaxSize);
        }
        if c.min_idle > c.max_size {
            return err(ResourcePoolBuildErrorKind::MinIdleAboveMaxSize {
                min_idle: c.min_idle,
                max_size: c.max_size,
            });
        }
        for (name, d) in [
            ("acquire_timeout", Some(c.acquire_timeout)),
            ("create_timeout", Some(c.create_timeout)),
            ("idle_timeout", c.idle_timeout),
            ("max_lifetime", c.max_lifetime),
        ] {
            if d == Some(Duration::ZERO) {
                return err(ResourcePoolBuildErrorKind::ZeroDuration(name));
            }
        }
        if c.max_uses == Some(0) {
            return err(ResourcePoolBuildErrorKind::ZeroMaxUses);
        }
        Ok(ResourcePool::from_parts(self.manager, self.config, self.clock))
    }
}
