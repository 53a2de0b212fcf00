package org.postern.smtp.client.internal;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.postern.smtp.client.Destination;
import org.postern.smtp.client.Reply;

/** The client's own replies for what went wrong: always temporary, as none of it is the message's fault. */
final class Failures {
    private Failures() {
    }

    /** The cause behind the wrappers of futures and codecs. */
    static Throwable unwrap(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException || cause instanceof DecoderException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    static Reply reply(Throwable error, Destination destination) {
        Throwable cause = unwrap(error);
        String where = destination.address();
        if (cause instanceof SetupFailure setup) {
            return setup.reply;
        }
        if (cause instanceof UnknownHostException) {
            return Reply.of(451, "4.4.3", "Cannot resolve " + destination.host());
        }
        if (cause instanceof ConnectException || cause instanceof ConnectTimeoutException || cause instanceof NoRouteToHostException) {
            return Reply.of(451, "4.4.1", "Cannot connect to " + where + ": " + cause.getMessage());
        }
        if (cause instanceof SSLException) {
            return Reply.of(451, "4.7.5", "TLS with " + where + " failed: " + cause.getMessage());
        }
        if (cause instanceof TimeoutException) {
            return Reply.of(451, "4.4.2", where + ": " + cause.getMessage());
        }
        if (cause instanceof ProtocolException) {
            return Reply.of(451, "4.5.0", where + " broke the protocol: " + cause.getMessage());
        }
        if (cause instanceof IOException) {
            return Reply.of(451, "4.4.2", "Connection to " + where + " failed: " + cause.getMessage());
        }
        return Reply.of(451, "4.3.0", "Internal error sending to " + where + ": " + cause);
    }
}
