/**
 * The native boundary: libc downcalls through FFM with errno captured per call and per thread,
 * the errno names and texts from glibc, {@link dev.ferry.nativeio.libc.NativeException}, and
 * the structs shared by several packages ({@code ifreq}).
 */
package dev.ferry.nativeio.libc;
