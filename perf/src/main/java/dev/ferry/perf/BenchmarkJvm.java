package dev.ferry.perf;

/**
 * The JVM flags every benchmark fork needs, the same as {@code ./ferry} passes to the
 * dataplane (the parent POM's {@code ferry.jvm.flags}): Agrona's UnsafeBuffer and the FFM
 * arena of the conntrack table. Constants, so that {@code @Fork(jvmArgsAppend = ...)} can name them.
 */
final class BenchmarkJvm {
    static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    static final String UNSAFE_MEMORY = "--sun-misc-unsafe-memory-access=allow";
    static final String OPEN_MISC = "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED";
    static final String OPEN_NIO = "--add-opens=java.base/java.nio=ALL-UNNAMED";

    private BenchmarkJvm() {
    }
}
