/**
 * Linux devices through the JDK's FFM API: libc calls with errno, TUN, AF_PACKET rings and
 * rtnetlink. No JNI and nothing compiled from C.
 */
package dev.ferry.nativeio;
