//! Sockets, select/poll, DNS and time.
