/** The flow table: keys, entries, per-protocol state and timeouts, garbage collection. */
package dev.ferry.conntrack;
