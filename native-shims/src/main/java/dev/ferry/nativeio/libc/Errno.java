package dev.ferry.nativeio.libc;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * errno values used by the shims, and their names and descriptions from glibc's
 * {@code strerrorname_np(3)} and {@code strerrordesc_np(3)} (both thread-safe, unlike
 * {@code strerror}). Values are Linux's (asm-generic/errno-base.h, errno.h).
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int EMSGSIZE = 90;
    public static final int EOPNOTSUPP = 95;
    public static final int ENETDOWN = 100;
    public static final int ENOBUFS = 105;
    public static final int ERANGE = 34;

    private static final MethodHandle NAME = lookup("strerrorname_np");
    private static final MethodHandle DESC = lookup("strerrordesc_np");

    private Errno() {
    }

    private static MethodHandle lookup(String function) {
        Linker linker = Linker.nativeLinker();
        Optional<MemorySegment> symbol = linker.defaultLookup().find(function);
        return symbol.map(s -> linker.downcallHandle(s,
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT))).orElse(null);
    }

    /** The symbolic name, e.g. {@code EPERM}; {@code errno 1234} when libc does not know it. */
    public static String name(int errno) {
        String s = call(NAME, errno);
        return s != null ? s : "errno " + errno;
    }

    /** The description, e.g. {@code Operation not permitted}. */
    public static String message(int errno) {
        String s = call(DESC, errno);
        return s != null ? s : "unknown error";
    }

    /** {@code EPERM (Operation not permitted)}. */
    public static String describe(int errno) {
        return name(errno) + " (" + message(errno) + ")";
    }

    private static String call(MethodHandle handle, int errno) {
        if (handle == null) {
            return null;
        }
        try {
            MemorySegment p = (MemorySegment) handle.invokeExact(errno);
            return p.equals(MemorySegment.NULL) ? null : p.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return null;
        }
    }
}
