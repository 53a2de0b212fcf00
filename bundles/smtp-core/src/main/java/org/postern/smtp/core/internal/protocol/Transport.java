package org.postern.smtp.core.internal.protocol;

import java.util.concurrent.Executor;

/** What the session needs from the connection, so the state machine does not depend on Netty. */
public interface Transport {
    void send(Reply reply);

    /** Closes the connection once every reply sent so far is flushed. */
    void close();

    /** The connection's own thread; session state is only touched there. */
    Executor executor();

    /** The session finished a command and can take the next line. */
    void ready();
}
