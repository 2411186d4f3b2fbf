//! Opaque handles: type-stable, lock-protected boxes that C holds as pointers.
//!
//! A handle's memory is never returned to the allocator. Freeing a handle drops the object
//! inside (closing its descriptor, releasing its buffers) and puts the empty shell on a
//! free list of its type, from which the next handle of that type is made. A call on a
//! freed handle therefore finds an empty shell and fails with `SOCKIT_INVALID`
//! ("handle has been freed") instead of touching freed memory; `free` twice is harmless.
//! (Once the shell is reused, an old pointer names the new object, as a reused file
//! descriptor number does.)
//!
//! Each shell holds a `parking_lot::Mutex`, so calls on one handle from several threads
//! are serialised. The lock is held for the whole call, blocking waits included.
//!
//! Buffers are the exception (`with_unlocked`): a buffer is plain memory whose data
//! pointer the caller reads directly, which no lock inside sockit could protect, so one
//! buffer is used by one thread at a time, like any memory the caller owns. Skipping the
//! lock keeps a line receive to one lock round trip. A `busy` flag still turns a nested
//! use of the same buffer within one call (for example from a callback) into
//! `SOCKIT_INVALID` instead of two live mutable borrows.
//!
//! In an ffi file, declare `pub struct sockit_name(Shell<RustType>);` and then
//! `impl_handle!(sockit_name, RustType, "what")`, which gives it `new`, `with` and `free`.

use crate::error::{Error, Result};
use parking_lot::Mutex;
use std::any::TypeId;
use std::sync::atomic::{AtomicBool, Ordering};

/// Magic value stored in live and freed shells, checked on every access, so a pointer
/// that never was a sockit handle of this type is caught in most cases.
const MAGIC: u64 = 0x736f_636b_6974_4831; // "sockitH1"

/// The shell behind every handle pointer.
pub struct Shell<T> {
    magic: u64,
    kind: TypeId,
    busy: AtomicBool,
    pub(crate) inner: Mutex<Option<T>>,
}

/// Recycled shells per handle type. A plain list of (type, addresses): there are only a
/// handful of handle types, and every address stays visible to leak checkers as a pointer
/// to the start of its block (a hash map would hide them behind interior pointers).
static FREE_LISTS: Mutex<Vec<(TypeId, Vec<usize>)>> = Mutex::new(Vec::new());

/// The recycled shells of type `t`, created empty on first use.
fn free_list(lists: &mut Vec<(TypeId, Vec<usize>)>, t: TypeId) -> &mut Vec<usize> {
    let i = match lists.iter().position(|(k, _)| *k == t) {
        Some(i) => i,
        None => {
            lists.push((t, Vec::new()));
            lists.len() - 1
        }
    };
    &mut lists[i].1
}

impl<T: 'static> Shell<T> {
    /// Puts `value` into a shell (reused from the free list when possible) and returns the
    /// pointer C will hold.
    pub fn alloc(value: T) -> *mut Shell<T> {
        let reused = free_list(&mut FREE_LISTS.lock(), TypeId::of::<T>()).pop();
        match reused {
            Some(addr) => {
                let shell = addr as *mut Shell<T>;
                // SAFETY: the address came from Box::leak of a Shell<T> (same TypeId)
                // and shells are never deallocated.
                *unsafe { &*shell }.inner.lock() = Some(value);
                shell
            }
            None => Box::leak(Box::new(Shell {
                magic: MAGIC,
                kind: TypeId::of::<T>(),
                busy: AtomicBool::new(false),
                inner: Mutex::new(Some(value)),
            })),
        }
    }

    /// Validates a pointer from C.
    ///
    /// # Safety
    /// `p` is NULL or a pointer this module handed out (or garbage that the magic check
    /// catches in most cases).
    #[inline]
    pub unsafe fn get<'a>(p: *const Shell<T>, what: &str) -> Result<&'a Shell<T>> {
        let shell = p
            .as_ref()
            .ok_or_else(|| Error::invalid(format!("{what} is NULL")))?;
        if shell.magic != MAGIC || shell.kind != TypeId::of::<T>() {
            return Err(Error::invalid(format!("{what}: not a {what} handle")));
        }
        Ok(shell)
    }

    /// Runs `f` on the live object behind `p`, holding its lock.
    ///
    /// # Safety
    /// As `get`.
    #[inline]
    pub unsafe fn with<R>(
        p: *const Shell<T>,
        what: &str,
        f: impl FnOnce(&mut T) -> Result<R>,
    ) -> Result<R> {
        let shell = Self::get(p, what)?;
        let mut guard = shell.inner.lock();
        match guard.as_mut() {
            Some(v) => f(v),
            None => Err(Error::invalid(format!("{what} handle has been freed"))),
        }
    }

    /// Runs `f` on the live object behind `p` WITHOUT taking its lock: for handles the
    /// caller uses from one thread at a time (buffers). A second use of the same handle
    /// while `f` runs, nested in a callback or from another thread, fails with
    /// `SOCKIT_INVALID` ("in use") instead of a second mutable borrow: one atomic
    /// compare-and-swap, never a wait.
    ///
    /// # Safety
    /// As `get`.
    #[inline]
    pub unsafe fn with_unlocked<R>(
        p: *const Shell<T>,
        what: &str,
        f: impl FnOnce(&mut T) -> Result<R>,
    ) -> Result<R> {
        let shell = Self::get(p, what)?;
        if shell
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Err(Error::invalid(format!("{what} is in use by another call")));
        }
        struct Idle<'a>(&'a AtomicBool);
        impl Drop for Idle<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _idle = Idle(&shell.busy);
        // SAFETY: `busy` was false and is ours now: no other borrow of the object exists
        // until `_idle` clears it.
        match &mut *shell.inner.data_ptr() {
            Some(v) => f(v),
            None => Err(Error::invalid(format!("{what} handle has been freed"))),
        }
    }

    /// A read-only look at the object behind `p` without its lock or a compare-and-swap
    /// (buffer length and data pointer): refused while a call is changing the object.
    ///
    /// # Safety
    /// As `get`.
    #[inline]
    pub unsafe fn peek<R>(
        p: *const Shell<T>,
        what: &str,
        f: impl FnOnce(&T) -> Result<R>,
    ) -> Result<R> {
        let shell = Self::get(p, what)?;
        if shell.busy.load(Ordering::Acquire) {
            return Err(Error::invalid(format!("{what} is in use by another call")));
        }
        // SAFETY: nobody holds the object mutably (`busy` is clear); a caller that starts
        // changing it from another thread right now breaks the handle's documented
        // one-thread-at-a-time contract, as it would with any memory it reads directly.
        match &*shell.inner.data_ptr() {
            Some(v) => f(v),
            None => Err(Error::invalid(format!("{what} handle has been freed"))),
        }
    }

    /// Drops the object behind `p` and recycles the shell. NULL and freed handles are
    /// ignored.
    ///
    /// # Safety
    /// As `get`.
    pub unsafe fn free(p: *mut Shell<T>, what: &str) {
        let Ok(shell) = Self::get(p, what) else {
            return;
        };
        let taken = shell.inner.lock().take();
        if taken.is_some() {
            drop(taken);
            free_list(&mut FREE_LISTS.lock(), TypeId::of::<T>()).push(p as usize);
        }
    }
}

/// Gives an opaque C handle type `$name` (declared as
/// `pub struct $name(Shell<$ty>);` right above, outside the macro, so that cbindgen sees
/// it) its `new`, `with` and `free`. `$what` names it in error messages.
macro_rules! impl_handle {
    ($name:ident, $ty:ty, $what:literal) => {
        crate::ffi::handle::impl_handle!(@impl $name, $ty, $what, with);
    };
    // A handle the caller synchronises itself: `with` does not lock (see `with_unlocked`).
    ($name:ident, $ty:ty, $what:literal, unlocked) => {
        crate::ffi::handle::impl_handle!(@impl $name, $ty, $what, with_unlocked);
    };
    (@impl $name:ident, $ty:ty, $what:literal, $with:ident) => {
        #[allow(dead_code)]
        impl $name {
            /// A new handle holding `v`.
            pub(crate) fn new(v: $ty) -> *mut $name {
                crate::ffi::handle::Shell::alloc(v) as *mut $name
            }
            /// Runs `f` with the object (locked, unless the handle is `unlocked`);
            /// NULL or freed handles fail.
            pub(crate) unsafe fn with<R>(
                p: *const $name,
                f: impl FnOnce(&mut $ty) -> crate::error::Result<R>,
            ) -> crate::error::Result<R> {
                crate::ffi::handle::Shell::$with(
                    p as *const crate::ffi::handle::Shell<$ty>,
                    $what,
                    f,
                )
            }
            /// A read-only look at the object (see `Shell::peek`).
            pub(crate) unsafe fn peek<R>(
                p: *const $name,
                f: impl FnOnce(&$ty) -> crate::error::Result<R>,
            ) -> crate::error::Result<R> {
                crate::ffi::handle::Shell::peek(p as *const crate::ffi::handle::Shell<$ty>, $what, f)
            }
            /// Frees the object (NULL and freed handles are ignored).
            pub(crate) unsafe fn free(p: *mut $name) {
                crate::ffi::handle::Shell::<$ty>::free(
                    p as *mut crate::ffi::handle::Shell<$ty>,
                    $what,
                )
            }
        }
    };
}
pub(crate) use impl_handle;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    struct Thing(u32);
    #[allow(non_camel_case_types, dead_code)]
    struct test_thing(Shell<Thing>);
    impl_handle!(test_thing, Thing, "thing");

    #[test]
    fn freed_handles_fail_cleanly_and_shells_are_reused() {
        let p = test_thing::new(Thing(7));
        assert_eq!(unsafe { test_thing::with(p, |t| Ok(t.0)) }.unwrap(), 7);
        unsafe { test_thing::free(p) };
        let e = unsafe { test_thing::with(p, |t| Ok(t.0)) }.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.msg, "thing handle has been freed");
        unsafe { test_thing::free(p) }; // twice: harmless
        let q = test_thing::new(Thing(9));
        assert_eq!(p, q, "the shell is reused");
        assert_eq!(unsafe { test_thing::with(q, |t| Ok(t.0)) }.unwrap(), 9);
        let e = unsafe { test_thing::with(std::ptr::null(), |t| Ok(t.0)) }.unwrap_err();
        assert_eq!(e.msg, "thing is NULL");
        unsafe { test_thing::free(q) };
    }

    struct Plain(Vec<u8>);
    #[allow(non_camel_case_types, dead_code)]
    struct test_plain(Shell<Plain>);
    impl_handle!(test_plain, Plain, "plain", unlocked);

    #[test]
    fn unlocked_handles_refuse_nested_use() {
        let p = test_plain::new(Plain(vec![1]));
        let r = unsafe {
            test_plain::with(p, |outer| {
                outer.0.push(2);
                let inner = test_plain::with(p, |_| Ok(()));
                assert_eq!(inner.unwrap_err().msg, "plain is in use by another call");
                // A read-only look is refused too while the object is being changed.
                assert!(test_plain::peek(p, |v| Ok(v.0.len())).is_err());
                Ok(outer.0.len())
            })
        };
        assert_eq!(r.unwrap(), 2);
        // The flag is cleared after the call, and after an error inside it.
        let e = unsafe { test_plain::with(p, |_| -> Result<()> { Err(Error::invalid("x")) }) };
        assert!(e.is_err());
        assert_eq!(
            unsafe { test_plain::with(p, |v| Ok(v.0.len())) }.unwrap(),
            2
        );
        unsafe { test_plain::free(p) };
        let e = unsafe { test_plain::with(p, |v| Ok(v.0.len())) }.unwrap_err();
        assert_eq!(e.msg, "plain handle has been freed");
    }
}
