package dev.ferry.conntrack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Predicate;

/**
 * A fixed-length region of a file, mapped read-write, that outlives the agent: the dataplane's
 * tables that a restarted agent attaches to (the conntrack table, the ClientIP affinity
 * records). A file of the right length whose header the caller recognises (magic, layout
 * version, sizes) is attached as it is; any other file (missing, another layout version after an
 * upgrade, another size, a torn header) is replaced by a zeroed one for the caller to format.
 */
public final class MappedStateFile {
    /** Zeros written per call while preallocating. */
    private static final int PREALLOCATE_CHUNK = 1 << 20;

    private MappedStateFile() {
    }

    /**
     * @param arena    owns the mapping: closing it unmaps the region
     * @param region   the whole file, {@code length} bytes
     * @param attached true when the file was kept (its header matched); false when it was replaced by zeros
     */
    public record Mapping(Arena arena, MemorySegment region, boolean attached) {
    }

    /**
     * Maps {@code file}, attaching to it when it is {@code length} bytes long and
     * {@code headerMatches} accepts its first {@code headerLength} bytes (in native byte order).
     *
     * @param what names the table in the error message ("conntrack table")
     * @throws UncheckedIOException if the file cannot be opened, written whole (a full file
     *         system fails here, not later) or mapped
     */
    public static Mapping map(final Path file, final long length, final int headerLength, final Predicate<ByteBuffer> headerMatches,
                              final String what) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            final boolean attach = channel.size() == length && headerMatches.test(readHeader(channel, headerLength));
            if (!attach) {
                channel.truncate(0);
                preallocate(channel, length);
            }
            final Arena arena = Arena.ofShared();
            try {
                return new Mapping(arena, channel.map(FileChannel.MapMode.READ_WRITE, 0, length, arena), attach);
            } catch (final RuntimeException | IOException e) {
                arena.close();
                throw e;
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot open " + what + " file " + file + " (" + length + " bytes: " + e.getMessage()
                + "): check that its directory exists, is writable and has room", e);
        }
    }

    private static ByteBuffer readHeader(final FileChannel channel, final int headerLength) throws IOException {
        final ByteBuffer buffer = ByteBuffer.allocate(headerLength).order(ByteOrder.nativeOrder());
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, buffer.position()) < 0) {
                break;
            }
        }
        return buffer.clear();
    }

    /**
     * Writes the whole file with zeros rather than leaving it sparse: a full file system then
     * fails here, at start, with "No space left on device", instead of later, when a packet
     * touches a page of the mapping for the first time and the kernel can find no block for it
     * (SIGBUS, which would kill the agent mid-traffic).
     */
    private static void preallocate(final FileChannel channel, final long length) throws IOException {
        final ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(PREALLOCATE_CHUNK, length));
        long position = 0;
        while (position < length) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), length - position));
            while (zeros.hasRemaining()) {
                position += channel.write(zeros, position);
            }
        }
        channel.force(false);
    }
}
