from django.urls import path

from trainer import views

urlpatterns = [
    path("claims/<int:claim_id>/task/", views.claim_task, name="claim-task"),
    path("tasks/", views.task_list, name="task-list"),
    path("tasks/<slug:slug>/", views.task_detail, name="task-detail"),
    path("tasks/<slug:slug>/starter.py", views.task_starter_py, name="task-starter-py"),
    path("tasks/<slug:slug>/starter.ipynb", views.task_starter_ipynb, name="task-starter-ipynb"),
    path("tasks/<slug:slug>/starter.R", views.task_starter_r, name="task-starter-r"),
    path("tasks/<slug:slug>/leaderboard/", views.task_leaderboard, name="task-leaderboard"),
    path("tasks/<slug:slug>/card/<str:name>", views.task_card_picture, name="task-card-picture"),
    path("tasks/<slug:slug>/attempts/<int:learner_id>/", views.learner_attempts, name="learner-attempts"),
    path("tasks/<slug:slug>/attempts/<int:learner_id>/limits/", views.learner_limits, name="learner-limits"),
    path("runs/", views.run_board, name="run-board"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("runs/<int:pk>/status/", views.run_status, name="run-status"),
    path("runs/<int:pk>/cancel/", views.run_cancel, name="run-cancel"),
    path("runs/<int:pk>/file/", views.run_file, name="run-file"),
    path("runs/<int:pk>/files/<str:name>", views.run_artifact, name="run-artifact"),
]
