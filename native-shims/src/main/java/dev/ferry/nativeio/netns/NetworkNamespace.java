package dev.ferry.nativeio.netns;

import dev.ferry.nativeio.libc.LibC;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs code inside another network namespace. setns(2) moves only the calling thread, so
 * each call gets a fresh platform thread (never a virtual thread: it could hop carriers)
 * that enters the namespace, checks through {@code /proc/thread-self/ns/net} that it really
 * is there, runs the task and ends. Sockets, TUN devices and netlink sockets opened by the
 * task stay bound to that namespace for their whole life, whichever thread uses them later.
 * Threads the task starts inherit the namespace.
 */
public final class NetworkNamespace {
    /** Where {@code ip netns add NAME} mounts named namespaces. */
    public static final Path NAMED_DIR = Path.of("/var/run/netns");

    private NetworkNamespace() {
    }

    /** The file of a namespace named by {@code ip netns}. */
    public static Path named(String name) {
        return NAMED_DIR.resolve(name);
    }

    /** Runs {@code task} in the namespace named {@code name} (see {@link #named}) and returns its result. */
    public static <T> T call(String name, Callable<T> task) {
        return call(named(name), task);
    }

    /** Runs {@code task} in the namespace whose file (nsfs mount or /proc/PID/ns/net) is {@code nsFile}. */
    public static <T> T call(Path nsFile, Callable<T> task) {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = start(nsFile, "netns-call", () -> {
            try {
                result.set(task.call());
            } catch (Throwable t) {
                failure.set(t);
            }
        }, failure);
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running a task in " + nsFile, e);
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException(new ExecutionException("task in network namespace " + nsFile + " failed", t));
        }
        return result.get();
    }

    /** Runs {@code task} in the namespace named {@code name}, without {@link Callable}'s checked exception. */
    public static void run(String name, Runnable task) {
        call(name, () -> {
            task.run();
            return null;
        });
    }

    /**
     * Starts a long-lived platform thread that enters the namespace and then runs {@code task}.
     * When entering fails the thread ends without running the task; the failure goes to the
     * thread's uncaught exception handler.
     */
    public static Thread startThread(String name, String threadName, Runnable task) {
        return start(named(name), threadName, task, null);
    }

    private static Thread start(Path nsFile, String threadName, Runnable task, AtomicReference<Throwable> failure) {
        return Thread.ofPlatform().name(threadName).daemon(true).start(() -> {
            try {
                enter(nsFile);
            } catch (RuntimeException e) {
                if (failure != null) {
                    failure.set(e);
                    return;
                }
                throw e;
            }
            task.run();
        });
    }

    /**
     * Moves the calling thread into the namespace at {@code nsFile} and verifies it got there.
     * Only for threads that will not go back to shared duty (pools, carriers).
     */
    public static void enter(Path nsFile) {
        if (Thread.currentThread().isVirtual()) {
            throw new IllegalStateException("setns on a virtual thread would move its carrier; use a platform thread");
        }
        int fd = LibC.check("open(" + nsFile + ")", LibC.open(nsFile.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC));
        try {
            LibC.check("setns(" + nsFile + ", CLONE_NEWNET)", LibC.setns(fd, LibC.CLONE_NEWNET));
        } finally {
            LibC.close(fd);
        }
        long want = inode(nsFile);
        long have = inode(Path.of("/proc/thread-self/ns/net"));
        if (want != have) {
            throw new IllegalStateException("setns(" + nsFile + ") left the thread in net namespace inode " + have
                    + " instead of " + want);
        }
    }

    /** The inode number identifying the namespace of {@code nsFile} (as {@code ls -L -i} prints). */
    public static long inode(Path nsFile) {
        try {
            return ((Number) Files.getAttribute(nsFile, "unix:ino")).longValue();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stat namespace file " + nsFile, e);
        }
    }

    /**
     * Creates a new, unnamed network namespace and returns a file descriptor that keeps it
     * alive: a short-lived thread unshares into it and opens its nsfs file. The namespace (and
     * any device moved into it) goes away when the last descriptor and the last socket inside
     * it are closed, so a process that dies leaves nothing behind. {@link #fdPath} names it for
     * {@link #call(Path, Callable)} and for netlink moves.
     */
    public static int createAnonymous() {
        AtomicReference<Integer> fd = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = Thread.ofPlatform().name("netns-create").daemon(true).start(() -> {
            try {
                LibC.check("unshare(CLONE_NEWNET)", LibC.unshare(LibC.CLONE_NEWNET));
                fd.set(LibC.check("open(/proc/thread-self/ns/net)",
                        LibC.open("/proc/thread-self/ns/net", LibC.O_RDONLY | LibC.O_CLOEXEC)));
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating a network namespace", e);
        }
        if (failure.get() instanceof RuntimeException r) {
            throw r;
        }
        if (failure.get() != null) {
            throw new IllegalStateException("cannot create a network namespace", failure.get());
        }
        return fd.get();
    }

    /** A path that opens the namespace behind a descriptor this process holds. */
    public static Path fdPath(int fd) {
        return Path.of("/proc/self/fd/" + fd);
    }
}
