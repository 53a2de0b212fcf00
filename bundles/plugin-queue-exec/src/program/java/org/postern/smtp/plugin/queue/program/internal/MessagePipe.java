package org.postern.smtp.plugin.queue.program.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.postern.smtp.api.BlockingCalls;
import org.postern.smtp.api.HookContext;
import org.postern.smtp.api.HookResult;
import org.postern.smtp.api.LogLevel;
import org.postern.smtp.api.ReturnCode;

/**
 * Hands messages to a delivery program for the queue plugins that pipe (queue/exec, and queue/qmail-queue, which
 * embeds this package): the program gets the message on its standard input with LF line endings, as local mail
 * programs expect, and the plugin learns how it exited. Writing into a pipe blocks, so each delivery runs on a
 * thread of this pipe's own, never a hook thread; the threads bound the programs running at once, a queue of fixed
 * length bounds those waiting, and a time limit kills a program (and what it started) that hangs.
 *
 * <p>A program takes the message when its input ends: the end of input is sent only after {@link HookContext#commit()}
 * confirmed the server still awaits the answer; otherwise the program is killed first, so a client told to try
 * again never gets its message delivered twice.
 */
public final class MessagePipe implements AutoCloseable {
    /** The start of the program's output (standard output and error) kept for the log; the rest is not read. */
    static final int MAX_OUTPUT = 4096;

    /**
     * util-linux's setsid, which starts each program in a process group of its own, so that a kill reaches all it
     * started, also what detached from it; empty where there is none, and only the program's descendants are killed.
     */
    private static final List<String> OWN_PROCESS_GROUP = Stream.of("/usr/bin/setsid", "/bin/setsid")
            .filter(setsid -> Files.isExecutable(Path.of(setsid))).limit(1).toList();

    /**
     * How a program ended: its process id, its exit status (128 + the signal's number when a signal ended it),
     * whether it read the whole message, and the start of what it printed.
     */
    public record Exit(long pid, int status, boolean readAll, String output) {
    }

    /** The server stopped waiting for the answer before the message was handed over; the program was killed. */
    static final class Withdrawn extends Exception {
        Withdrawn() {
            super("the server stopped waiting for the answer", null, false, false);
        }
    }

    private final String program;
    private final BlockingCalls calls;
    private final Duration timeout;

    private MessagePipe(String program, int maxProcesses, int maxWaiting, Duration timeout) {
        this.program = program;
        this.calls = new BlockingCalls("queue-" + Path.of(program).getFileName(), maxProcesses, maxWaiting);
        this.timeout = timeout;
    }

    /**
     * A pipe as a component's keys {@code timeout}, {@code max.processes} and {@code max.waiting} configure it.
     *
     * @param program the program as log lines name it
     * @param timeoutSeconds how long a delivery may take, waiting for a thread included
     * @param maxProcesses programs running at once, each with a thread of its own
     * @param maxWaiting deliveries that may wait for a free thread; beyond them a delivery fails at once
     * @throws IllegalArgumentException naming the configuration when a value is below 1
     */
    public static MessagePipe configured(String pid, String program, int timeoutSeconds, int maxProcesses, int maxWaiting) {
        if (timeoutSeconds < 1 || maxProcesses < 1 || maxWaiting < 1) {
            throw new IllegalArgumentException("configuration " + pid + ": keys 'timeout', 'max.processes' and 'max.waiting' "
                    + "must be at least 1, not " + timeoutSeconds + ", " + maxProcesses + " and " + maxWaiting);
        }
        return new MessagePipe(program, maxProcesses, maxWaiting, Duration.ofSeconds(timeoutSeconds));
    }

    /**
     * Runs the command (an argument vector, never through a shell unless the caller names one) with the message on
     * its standard input. The stage completes with how it exited, or fails: {@link RejectedExecutionException} when
     * every thread is busy and the queue full, {@link TimeoutException} when the time limit killed it, an
     * {@link IOException} when it could not be started or the message not read, {@link Withdrawn} when the server
     * stopped waiting. Map a failure with {@link #failure}.
     */
    public CompletableFuture<Exit> run(HookContext ctx, List<String> command) {
        Path output;
        try {
            output = ctx.transaction().tempFile();
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        Delivery delivery = new Delivery();
        CompletableFuture<Exit> exit = calls.call(() -> deliver(ctx, command, output, delivery), timeout);
        // the pool interrupts a timed-out call, but a blocked write into a pipe does not notice: killing the program
        // breaks the pipe, and ends the call
        exit.whenComplete((ended, failure) -> {
            if (failure instanceof TimeoutException) {
                delivery.abandon();
            }
        });
        return exit;
    }

    private Exit deliver(HookContext ctx, List<String> command, Path output, Delivery delivery) throws Exception {
        // the program's output goes to a file, not a pipe: a program writing much before it reads its input could
        // otherwise block on a full pipe while this thread blocks writing the message to it
        Process process = new ProcessBuilder(inOwnProcessGroup(command)).redirectErrorStream(true)
                .redirectOutput(output.toFile()).start();
        try {
            if (!delivery.attach(process)) {
                throw new TimeoutException();
            }
            boolean readAll = feed(ctx, process);
            // the process API waits on a thread either way (its onExit() is a JDK thread blocked in waitpid): this one
            // waits here, so that the pool's threads bound the programs alive, not only those still reading
            process.waitFor();
            return new Exit(process.pid(), process.exitValue(), readAll, read(output));
        } finally {
            if (process.isAlive()) {
                kill(process);
            }
            Files.deleteIfExists(output);
        }
    }

    /**
     * Copies the message to the program's input and ends it once the server confirms it still waits; false when the
     * program stopped reading before the end (its exit status tells why).
     */
    private static boolean feed(HookContext ctx, Process process) throws IOException, Withdrawn {
        OutputStream input = process.getOutputStream();
        boolean readAll;
        try (InputStream message = ctx.transaction().message()) {
            readAll = copyWithLf(message, input);
        } catch (IOException reading) {
            // the message could not be read (the transaction ended): the program must not see an end of input
            kill(process);
            throw reading;
        }
        if (readAll && !ctx.commit()) {
            kill(process);
            throw new Withdrawn();
        }
        try {
            input.close();
        } catch (IOException stopped) {
            return false;
        }
        return readAll;
    }

    /**
     * Copies {@code in} to {@code out} with each CRLF turned into LF (a lone CR stays); false when writing failed,
     * which for a pipe means the reader went away. A failure to read is thrown.
     */
    static boolean copyWithLf(InputStream in, OutputStream out) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        byte[] lf = new byte[buffer.length + 1];
        boolean heldCr = false;
        int read;
        while ((read = in.read(buffer)) > 0) {
            int length = 0;
            for (int i = 0; i < read; i++) {
                if (heldCr && buffer[i] != '\n') {
                    lf[length++] = '\r';
                }
                heldCr = buffer[i] == '\r';
                if (!heldCr) {
                    lf[length++] = buffer[i];
                }
            }
            if (!write(out, lf, length)) {
                return false;
            }
        }
        return !heldCr || write(out, new byte[] {'\r'}, 1);
    }

    private static boolean write(OutputStream out, byte[] bytes, int length) {
        try {
            out.write(bytes, 0, length);
            return true;
        } catch (IOException stopped) {
            return false;
        }
    }

    /** The start of the program's output, with control characters other than tab and newline shown as '?'. */
    private static String read(Path output) throws IOException {
        try (InputStream in = Files.newInputStream(output)) {
            String text = new String(in.readNBytes(MAX_OUTPUT), StandardCharsets.UTF_8);
            return text.replaceAll("[\\p{Cntrl}&&[^\\t\\n]]", "?").strip();
        }
    }

    /**
     * The command run by setsid, its program found as ProcessBuilder would find it, so that a program that cannot be
     * run still fails to start rather than becoming setsid's exit status.
     */
    private static List<String> inOwnProcessGroup(List<String> command) throws IOException {
        if (OWN_PROCESS_GROUP.isEmpty()) {
            return command;
        }
        String program = command.get(0);
        Stream<Path> candidates = program.contains("/") ? Stream.of(Path.of(program))
                : Stream.of(System.getenv().getOrDefault("PATH", "").split(":")).map(folder -> Path.of(folder.isEmpty() ? "." : folder, program));
        String found = candidates.filter(path -> Files.isRegularFile(path) && Files.isExecutable(path)).findFirst()
                .orElseThrow(() -> new IOException("Cannot run program \"" + program + "\": not found, or not executable"))
                .toString();
        return Stream.of(OWN_PROCESS_GROUP.stream(), Stream.of(found), command.stream().skip(1)).flatMap(part -> part).toList();
    }

    /**
     * Kills the program and whatever it started that still runs (a shell's children, sendmail's postdrop): its
     * process group first, where a process that left its parent still is, before the program's death closes the pipe
     * and gives such a process the end of the message; then its descendants, for a system without setsid.
     */
    static void kill(Process process) {
        if (!OWN_PROCESS_GROUP.isEmpty()) {
            try {
                Process killer = new ProcessBuilder("/bin/sh", "-c", "kill -s KILL -- -" + process.pid())
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                killer.waitFor(2, TimeUnit.SECONDS);
            } catch (IOException cannotStart) {
                // the descendants are still killed below
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /**
     * What the client hears once the program ended, logged with what it printed: the plugin's {@code queued} answer
     * for status 0 after it read the whole message; 554 5.3.0 for a status in {@code permanent}; else 451 4.3.0, so
     * the client keeps the message and tries again.
     *
     * @param describe a status as log lines name it
     */
    public HookResult verdict(HookContext ctx, Exit exit, BitSet permanent, IntFunction<String> describe, Supplier<HookResult> queued) {
        int status = exit.status();
        HookResult answer;
        if (!exit.readAll()) {
            ctx.log(LogLevel.WARN, program + " exited with " + describe.apply(status) + " before reading the whole message");
            answer = temporary(Integer.toString(status));
        } else if (status == 0) {
            ctx.log(LogLevel.INFO, "queued by " + program + " (process " + exit.pid() + ")");
            answer = queued.get();
        } else if (permanent.get(status)) {
            ctx.log(LogLevel.WARN, program + " refused the message for good: " + describe.apply(status));
            answer = HookResult.deny("Message refused by the delivery program (" + status + ")").withReplyCode(554)
                    .withEnhancedStatus("5.3.0");
        } else {
            ctx.log(LogLevel.WARN, program + " failed: " + describe.apply(status) + "; the client will try again");
            answer = temporary(Integer.toString(status));
        }
        LogLevel level = answer.code() == ReturnCode.OK ? LogLevel.INFO : LogLevel.WARN;
        exit.output().lines().forEach(line -> ctx.log(level, program + ": " + line));
        return answer;
    }

    /** A temporary failure in qpsmtpd's words ({@code Unable to queue message (<why>)}), as 451 4.3.0. */
    static HookResult temporary(String why) {
        return HookResult.denySoft("Unable to queue message (" + why + ")").withReplyCode(451).withEnhancedStatus("4.3.0");
    }

    /** Logs why a delivery failed, and answers with a temporary failure: the client keeps the message and retries. */
    public HookResult failure(HookContext ctx, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof RejectedExecutionException) {
            ctx.log(LogLevel.WARN, "every " + program + " slot and waiting place taken (or the plugin stopped); try again later");
            return temporary("busy");
        }
        if (cause instanceof TimeoutException) {
            ctx.log(LogLevel.ERROR, program + " did not finish within " + timeout.toSeconds() + " s; killed");
            return temporary("timeout");
        }
        if (cause instanceof Withdrawn) {
            ctx.log(LogLevel.WARN, program + " killed before the end of the message: the server stopped waiting for it");
            return temporary("withdrawn");
        }
        ctx.log(LogLevel.ERROR, "cannot hand the message to " + program + ": " + cause);
        return temporary("cannot run " + Path.of(program).getFileName());
    }

    /** The key {@code permanent.codes} of a component's configuration, as {@link #statuses} reads it. */
    public static BitSet permanentStatuses(String pid, String list) {
        try {
            return statuses(list);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("configuration " + pid + ": key 'permanent.codes': " + e.getMessage(), e);
        }
    }

    /**
     * Exit statuses from a list such as {@code 11-40, 65 77} (commas or blanks between items, ranges with '-');
     * empty for an empty list.
     *
     * @throws IllegalArgumentException for an item that is not a status from 1 to 255 or a range of them
     */
    static BitSet statuses(String list) {
        BitSet statuses = new BitSet(256);
        for (String item : list.strip().split("[\\s,]+")) {
            if (item.isEmpty()) {
                continue;
            }
            String[] bounds = item.split("-", 2);
            try {
                int from = Integer.parseInt(bounds[0]);
                int to = bounds.length == 2 ? Integer.parseInt(bounds[1]) : from;
                if (from < 1 || to > 255 || from > to) {
                    throw new NumberFormatException();
                }
                statuses.set(from, to + 1);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + item + "' is not an exit status from 1 to 255, nor a range of them");
            }
        }
        return statuses;
    }

    /** Programs under way are killed, waiting deliveries fail at once. */
    @Override
    public void close() {
        calls.close();
    }

    /** The process of one delivery, for the time limit to kill: once started, or at its start if the time was up. */
    private static final class Delivery {
        private Process process;
        private boolean abandoned;

        synchronized boolean attach(Process started) {
            if (abandoned) {
                kill(started);
                return false;
            }
            process = started;
            return true;
        }

        /** Runs on the thread of the time limit, the JDK's timer shared by every timeout: the kill goes elsewhere. */
        synchronized void abandon() {
            abandoned = true;
            if (process != null && process.isAlive()) {
                Process running = process;
                CompletableFuture.runAsync(() -> kill(running));
            }
        }
    }
}
