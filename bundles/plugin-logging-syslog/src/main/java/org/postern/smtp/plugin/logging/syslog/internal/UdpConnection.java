package org.postern.smtp.plugin.logging.syslog.internal;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;

/** RFC 5426: one datagram per message, from an unconnected socket, so a receiver that is down costs nothing. */
final class UdpConnection implements SyslogConnection {
    /** RFC 5426 3.2: the size every receiver should take. */
    private static final int MAX_OCTETS = 2048;

    private final String host;
    private final int port;
    private DatagramSocket socket;
    private InetSocketAddress receiver;

    UdpConnection(String host, int port) {
        this.host = host;
        this.port = port;
    }

    @Override
    public int maxOctets() {
        return MAX_OCTETS;
    }

    @Override
    public void send(byte[] message) throws IOException {
        if (socket == null) {
            receiver = SyslogSender.resolve(host, port);
            socket = new DatagramSocket();
        }
        socket.send(new DatagramPacket(message, message.length, receiver));
    }

    @Override
    public void close() {
        if (socket != null) {
            socket.close();
            socket = null;
        }
    }

    @Override
    public String toString() {
        return "udp " + host + ":" + port;
    }
}
