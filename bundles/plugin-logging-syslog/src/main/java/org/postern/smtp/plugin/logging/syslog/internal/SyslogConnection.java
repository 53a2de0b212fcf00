package org.postern.smtp.plugin.logging.syslog.internal;

import java.io.IOException;

/** A way to a syslog receiver; used by one sender thread only. */
interface SyslogConnection {
    /** The most octets of one message this transport carries; the sender cuts longer ones. */
    int maxOctets();

    /** Sends one message, (re)connecting first when needed; fails within the connection's timeout. */
    void send(byte[] message) throws IOException;

    /** Closes the socket; the next {@link #send} opens a new one. */
    void close();
}
