/** JMH benchmarks and performance reports. */
package dev.ferry.perf;
