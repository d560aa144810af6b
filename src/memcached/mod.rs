//! memcached itself: how a container's command line configures it, and how
//! much memory that configuration takes.

pub mod cmdline;
pub mod memory;
pub mod quantity;
pub mod resources;

pub use cmdline::{MemcachedArgs, MemcachedContainer, Role, memcached_containers};
pub use memory::{MemoryEstimate, estimate};
