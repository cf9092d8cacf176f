package dev.ferry.control.cli;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * SIGTERM and SIGINT run a stop action instead of the JVM's shutdown, so the agent stops
 * cleanly and {@code ferry agent} returns its own exit code: 0 after a stop, not the 143 a
 * signalled JVM exits with (which systemd and a DaemonSet's restart count see as a failure).
 *
 * <p>The handler is {@code sun.misc.Signal} from the {@code jdk.unsupported} module, the JDK's
 * supported way to do this (JEP 260 keeps it for exactly such uses). It is reached by name
 * rather than compiled against because javac warns on every use of that module and the
 * warning cannot be suppressed, while the build treats every warning as an error. Without it
 * (a JDK that left it out) the shutdown hook still stops the agent; the exit code is then 143.
 */
final class StopSignals {
    private static final Logger LOG = Logger.getLogger(StopSignals.class.getName());
    private static final List<String> SIGNALS = List.of("TERM", "INT");

    private StopSignals() {
    }

    /** Runs {@code stop} on its own thread whenever SIGTERM or SIGINT arrives. */
    static void onStop(final Runnable stop) {
        try {
            final Class<?> signalClass = Class.forName("sun.misc.Signal");
            final Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            final Object handler = Proxy.newProxyInstance(StopSignals.class.getClassLoader(), new Class<?>[] {handlerClass},
                (proxy, method, args) -> switch (method.getName()) {
                    // the JVM's signal thread must not block: the stop runs on a thread of its own
                    case "handle" -> {
                        Thread.ofPlatform().name("ferry-stop").start(stop);
                        yield null;
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> "ferry stop signal handler";
                });
            final Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            for (final String name : SIGNALS) {
                handle.invoke(null, signalClass.getConstructor(String.class).newInstance(name), handler);
            }
        } catch (final ReflectiveOperationException | RuntimeException e) {
            LOG.log(Level.WARNING, "cannot handle SIGTERM/SIGINT (" + e + "): the shutdown hook stops the agent, "
                + "and the JVM exits 143 after a signal");
        }
    }
}
