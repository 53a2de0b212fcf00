package org.postern.smtp.client.internal;

import org.postern.smtp.client.Delivery.Stage;
import org.postern.smtp.client.Reply;

/** A connection that could not be set up, with the stage and the reply (the server's or the client's own) that ended it. */
final class SetupFailure extends Exception {
    private static final long serialVersionUID = 1L;
    final transient Stage stage;
    final transient Reply reply;

    SetupFailure(Stage stage, Reply reply) {
        super(stage + ": " + reply, null, false, false);
        this.stage = stage;
        this.reply = reply;
    }
}
