package org.postern.smtp.testkit;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real DNS server for tests: dnsmasq on a loopback port, answering only from the records given on its
 * command line (no upstream, no /etc/hosts), e.g. {@code "--address=/1.0.0.127.bl.test/127.0.0.2"},
 * {@code "--mx-host=example.test,mx.example.test,10"}, {@code "--ptr-record=1.0.0.127.in-addr.arpa,mx.example.test"}.
 * Start one per test class or test; close it after. Needs dnsmasq installed (Debian's dnsmasq-base; {@code .ci/run}
 * installs it).
 */
public final class Dnsmasq implements AutoCloseable {
    private final Process process;
    private final int port;

    private Dnsmasq(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts dnsmasq on a port free for both UDP and TCP (it listens on both); tries again if it was taken. */
    public static Dnsmasq start(String... records) throws IOException, InterruptedException {
        String binary = new File("/usr/sbin/dnsmasq").canExecute() ? "/usr/sbin/dnsmasq" : "dnsmasq";
        String failure = "";
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = freeTcpAndUdpPort();
            List<String> command = new ArrayList<>(List.of(binary, "--keep-in-foreground", "--no-resolv", "--no-hosts",
                    "--pid-file", "--port=" + port, "--listen-address=127.0.0.1", "--bind-interfaces",
                    "--user=" + System.getProperty("user.name")));
            command.addAll(List.of(records));
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            if (!process.waitFor(300, TimeUnit.MILLISECONDS)) {
                return new Dnsmasq(process, port);
            }
            failure = new String(process.getInputStream().readAllBytes());
        }
        throw new AssertionError("dnsmasq did not start: " + failure);
    }

    /** The server as {@code host:port}, as the resolver's {@code nameservers} key takes it. */
    public String address() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** Stops the server and waits for it to be gone. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }

    private static int freeTcpAndUdpPort() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                    DatagramSocket udp = new DatagramSocket(tcp.getLocalPort(), InetAddress.getLoopbackAddress())) {
                return tcp.getLocalPort();
            } catch (java.net.BindException taken) {
                // the UDP side of this port is in use; try another
            }
        }
        throw new IOException("no port free for both TCP and UDP");
    }
}
