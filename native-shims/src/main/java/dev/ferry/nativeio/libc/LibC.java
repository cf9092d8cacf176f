package dev.ferry.nativeio.libc;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The libc calls Ferry makes, bound once through the FFM linker: the whole native boundary
 * of the project. Each method mirrors its C function (see the named man page) and returns
 * the C result, or {@code -errno} when the call failed; errno is captured per call through
 * {@link Linker.Option#captureCallState} into a per-thread segment (or one the caller
 * passes, so a hot loop needs no thread-local lookup). Control paths wrap a result with
 * {@link #check(String, int)} to get a {@link NativeException} naming the call.
 *
 * <p>Hot-path variants take a raw address ({@code long}) instead of a segment: on the
 * SysV x86-64 and AAPCS64 ABIs a pointer argument is passed exactly like a 64-bit integer.
 */
public final class LibC {
    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;

    public static final int AF_UNSPEC = 0;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int AF_NETLINK = 16;
    public static final int AF_PACKET = 17;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_RAW = 3;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int SOL_SOCKET = 1;
    public static final int SO_RCVBUF = 8;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUFFORCE = 33;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_TRUNC = 0x20;

    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MAP_LOCKED = 0x2000;
    public static final int MAP_POPULATE = 0x8000;

    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;

    public static final short POLLIN = 0x1;
    public static final short POLLOUT = 0x4;
    public static final short POLLERR = 0x8;

    public static final int CLONE_NEWNET = 0x40000000;

    /** {@code struct pollfd} (poll(2)). */
    public static final StructLayout POLLFD = MemoryLayout.structLayout(
            JAVA_INT.withName("fd"),
            CTypes.SHORT.withName("events"),
            CTypes.SHORT.withName("revents")).withName("pollfd");

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_HANDLE =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> THREAD_ERRNO =
            ThreadLocal.withInitial(LibC::newErrnoState);

    private static final MethodHandle OPEN = bind("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = bind("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle WRITE = bind("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle IOCTL = bind("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle SOCKET = bind("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = bind("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKNAME = bind("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SETSOCKOPT = bind("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = bind("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SENDTO = bind("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle RECVFROM = bind("recvfrom",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MMAP = bind("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = bind("munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle POLL = bind("poll", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle EVENTFD = bind("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SETNS = bind("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle UNSHARE = bind("unshare", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle IF_NAMETOINDEX = bind("if_nametoindex", FunctionDescriptor.of(JAVA_INT, ADDRESS));

    private LibC() {
    }

    private static MethodHandle bind(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** A fresh errno capture segment, for a thread that wants to pass its own on hot paths. */
    public static MemorySegment newErrnoState() {
        return Arena.ofAuto().allocate(CAPTURE_LAYOUT);
    }

    private static MemorySegment errnoState() {
        return THREAD_ERRNO.get();
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO_HANDLE.get(state, 0L);
    }

    private static int result(MemorySegment state, int rc) {
        return rc == -1 ? -errno(state) : rc;
    }

    private static long result(MemorySegment state, long rc) {
        return rc == -1 ? -errno(state) : rc;
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    /** Returns {@code rc} when it is not negative, else throws a {@link NativeException} naming {@code call}. */
    public static int check(String call, int rc) {
        if (rc < 0) {
            throw new NativeException(call, -rc);
        }
        return rc;
    }

    /** As {@link #check(String, int)} for {@code ssize_t} results. */
    public static long check(String call, long rc) {
        if (rc < 0) {
            throw new NativeException(call, (int) -rc);
        }
        return rc;
    }

    /** open(2). */
    public static int open(String path, int flags) {
        MemorySegment state = errnoState();
        try (Arena arena = Arena.ofConfined()) {
            return result(state, (int) OPEN.invokeExact(state, arena.allocateFrom(path), flags, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** close(2). */
    public static int close(int fd) {
        MemorySegment state = errnoState();
        try {
            return result(state, (int) CLOSE.invokeExact(state, fd));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** read(2) into {@code length} bytes at {@code address}; bytes read or -errno. */
    public static long read(MemorySegment state, int fd, long address, long length) {
        try {
            return result(state, (long) READ.invokeExact(state, fd, address, length));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** write(2) of {@code length} bytes at {@code address}; bytes written or -errno. */
    public static long write(MemorySegment state, int fd, long address, long length) {
        try {
            return result(state, (long) WRITE.invokeExact(state, fd, address, length));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** ioctl(2) with a pointer argument. */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        MemorySegment state = errnoState();
        try {
            return result(state, (int) IOCTL.invokeExact(state, fd, request, arg));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** eventfd(2): a counter another thread can write to wake a poll(2). */
    public static int eventfd(int initialValue, int flags) {
        MemorySegment state = errnoState();
        try {
            return result(state, (int) EVENTFD.invokeExact(state, initialValue, flags));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** socket(2). */
    public static int socket(int domain, int type, int protocol) {
        MemorySegment state = errnoState();
        try {
            return result(state, (int) SOCKET.invokeExact(state, domain, type, protocol));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** bind(2). */
    public static int bind(int fd, MemorySegment address) {
        MemorySegment state = errnoState();
        try {
            return result(state, (int) BIND.invokeExact(state, fd, address, (int) address.byteSize()));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** getsockname(2); {@code lengthInOut} holds a socklen_t. */
    public static int getsockname(int fd, MemorySegment address, MemorySegment lengthInOut) {
        MemorySegment state = errnoState();
        try {
            return result(state, (int) GETSOCKNAME.invokeExact(state, fd, address, lengthInOut));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** setsockopt(2) with the whole of {@code value}. */
    public static int setsockopt(int fd, int level, int name, MemorySegment value) {
        MemorySegment state = errnoState();
        try {
            return result(state, (int) SETSOCKOPT.invokeExact(state, fd, level, name, value, (int) value.byteSize()));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** setsockopt(2) with an int value. */
    public static int setsockopt(int fd, int level, int name, int value) {
        try (Arena arena = Arena.ofConfined()) {
            return setsockopt(fd, level, name, arena.allocateFrom(JAVA_INT, value));
        }
    }

    /** getsockopt(2); {@code lengthInOut} holds a socklen_t. */
    public static int getsockopt(int fd, int level, int name, MemorySegment value, MemorySegment lengthInOut) {
        MemorySegment state = errnoState();
        try {
            return result(state, (int) GETSOCKOPT.invokeExact(state, fd, level, name, value, lengthInOut));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** getsockopt(2) of an int option; the value, or -errno. */
    public static int getsockoptInt(int fd, int level, int name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            MemorySegment length = arena.allocateFrom(JAVA_INT, 4);
            int rc = getsockopt(fd, level, name, value, length);
            return rc < 0 ? rc : value.get(JAVA_INT, 0);
        }
    }

    /** sendto(2); addresses as raw pointers (0 for NULL). Bytes sent or -errno. */
    public static long sendto(MemorySegment state, int fd, long buffer, long length, int flags,
                              long destAddress, int destLength) {
        try {
            return result(state, (long) SENDTO.invokeExact(state, fd, buffer, length, flags, destAddress, destLength));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** recvfrom(2); addresses as raw pointers (0 for NULL). Bytes received or -errno. */
    public static long recvfrom(MemorySegment state, int fd, long buffer, long length, int flags,
                                long srcAddress, long srcLengthAddress) {
        try {
            return result(state, (long) RECVFROM.invokeExact(state, fd, buffer, length, flags, srcAddress, srcLengthAddress));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** mmap(2); the mapping's address, or -errno. */
    public static long mmap(long address, long length, int prot, int flags, int fd, long offset) {
        MemorySegment state = errnoState();
        try {
            return result(state, (long) MMAP.invokeExact(state, address, length, prot, flags, fd, offset));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** munmap(2). */
    public static int munmap(long address, long length) {
        MemorySegment state = errnoState();
        try {
            return result(state, (int) MUNMAP.invokeExact(state, address, length));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** poll(2) over {@code count} pollfd structs at {@code fds}; ready count, 0 on timeout, or -errno. */
    public static int poll(MemorySegment state, long fds, long count, int timeoutMs) {
        try {
            return result(state, (int) POLL.invokeExact(state, fds, count, timeoutMs));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Waits up to {@code timeoutMs} for {@code events} on one fd; the revents, 0 on timeout, or -errno. */
    public static int pollOne(int fd, short events, int timeoutMs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pfd = arena.allocate(POLLFD);
            pfd.set(JAVA_INT, 0, fd);
            pfd.set(CTypes.SHORT, 4, events);
            int rc = poll(errnoState(), pfd.address(), 1, timeoutMs);
            return rc <= 0 ? rc : pfd.get(CTypes.SHORT, 6) & 0xffff;
        }
    }

    /** setns(2). */
    public static int setns(int fd, int nstype) {
        MemorySegment state = errnoState();
        try {
            return result(state, (int) SETNS.invokeExact(state, fd, nstype));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** unshare(2): moves the calling thread into new namespaces of the given CLONE_* kinds; 0 or -errno. */
    public static int unshare(int flags) {
        MemorySegment state = errnoState();
        try {
            return result(state, (int) UNSHARE.invokeExact(state, flags));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** if_nametoindex(3); the index, or -errno (ENODEV when there is no such interface). */
    public static int ifNameToIndex(String name) {
        MemorySegment state = errnoState();
        try (Arena arena = Arena.ofConfined()) {
            int index = (int) IF_NAMETOINDEX.invokeExact(state, arena.allocateFrom(name));
            return index == 0 ? -errno(state) : index;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Convenience: the per-thread errno capture segment for hot-path overloads called from control code. */
    public static MemorySegment threadErrnoState() {
        return errnoState();
    }
}
