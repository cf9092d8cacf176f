/** Whether native packet I/O can work here, and if not exactly what is missing. */
package dev.ferry.nativeio.probe;
