"""The root Mutation type. Conventions: docs/MUTATIONS.md."""

from __future__ import annotations

import strawberry

from schema import (
    device_mutations,
    email_preferences,
    notification_mutations,
    photo_mutations,
    profile,
    social_mutations,
)


@strawberry.type
class Mutation:
    create_profile: profile.ProfilePayload = strawberry.mutation(
        resolver=profile.create_profile,
        description="Claim a username and create the signed-in user's profile.",
    )
    update_profile: profile.ProfilePayload = strawberry.mutation(
        resolver=profile.update_profile,
        description="Change the signed-in user's username or display name.",
    )
    follow: social_mutations.FollowPayload = strawberry.mutation(
        resolver=social_mutations.follow, description="Follow a user (following twice is fine)."
    )
    unfollow: social_mutations.FollowPayload = strawberry.mutation(
        resolver=social_mutations.unfollow, description="Stop following a user."
    )
    like_photo: social_mutations.LikePayload = strawberry.mutation(
        resolver=social_mutations.like_photo, description="Like a photo (once per user)."
    )
    unlike_photo: social_mutations.LikePayload = strawberry.mutation(
        resolver=social_mutations.unlike_photo, description="Take a like back."
    )
    add_comment: social_mutations.AddCommentPayload = strawberry.mutation(
        resolver=social_mutations.add_comment, description="Comment on a photo."
    )
    delete_comment: social_mutations.DeleteCommentPayload = strawberry.mutation(
        resolver=social_mutations.delete_comment,
        description="Delete a comment (its author or the photo's owner).",
    )
    create_photo: photo_mutations.PhotoPayload = strawberry.mutation(
        resolver=photo_mutations.create_photo,
        description="Post a photo (a GraphQL multipart request); it comes back with its "
        "image URLs, size and placeholder.",
    )
    update_caption: photo_mutations.PhotoPayload = strawberry.mutation(
        resolver=photo_mutations.update_caption,
        description="Change the caption of one of the signed-in user's photos.",
    )
    delete_photo: photo_mutations.DeletePhotoPayload = strawberry.mutation(
        resolver=photo_mutations.delete_photo,
        description="Delete one of the signed-in user's photos and its images.",
    )
    mark_notifications_read: notification_mutations.MarkNotificationsReadPayload = (
        strawberry.mutation(
            resolver=notification_mutations.mark_notifications_read,
            description="Mark notifications read, up to one of them or all.",
        )
    )
    register_device: device_mutations.RegisterDevicePayload = strawberry.mutation(
        resolver=device_mutations.register_device,
        description="Send the viewer's push notifications to this app install (registering "
        "again is fine; a token registered by someone else moves to the viewer).",
    )
    unregister_device: device_mutations.UnregisterDevicePayload = strawberry.mutation(
        resolver=device_mutations.unregister_device,
        description="Stop sending the viewer's push notifications to this app install.",
    )
    update_email_preferences: email_preferences.UpdateEmailPreferencesPayload = strawberry.mutation(
        resolver=email_preferences.update_email_preferences,
        description="Choose which e-mails the viewer gets; they go to the verified "
        "address of the viewer's sign-in (EMAIL_NOT_VERIFIED when it has none).",
    )
