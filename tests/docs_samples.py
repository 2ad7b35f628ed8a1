"""The docs' sample answers (``data`` of each 200 example), copied from stardustai/docs-api: the
pages under ``src/en`` at commit adf3f38 (August 2024), and the seed's Create Workflow page on the
branch of PR #4 (bb869aa, July 2024). Kept verbatim as JSON text, so a reader can diff it against
the pages; `tests/test_contract.py` checks the emulator's answers against them field by field."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["SAMPLES"]

#: path -> {"page": the docs page, "data": the sample's ``data``}.
SAMPLES: dict[str, dict[str, Any]] = json.loads(
    r"""
{
 "/annotation/request": {
  "page": "annotations/request-annotation.md",
  "data": {
   "successTaskList": [
    {
     "taskId": "23412341235234234",
     "dataId": "2392"
    },
    {
     "taskId": "9182748910723984",
     "dataId": "9782"
    }
   ],
   "errorDataIdList": [
    "98902",
    "1234"
   ]
  }
 },
 "/annotation/stat": {
  "page": "annotations/run-stat.md",
  "data": {
   "projectId": 2024,
   "workflowId": 18000,
   "efficiency": {
    "workHours": 30.5,
    "objectCount": 1000
   },
   "efforts": [
    {
     "deleted": 30,
     "inspected": 700,
     "added": 730,
     "corrected": 60,
     "vendor": "stardust"
    },
    {
     "deleted": 50,
     "inspected": 300,
     "added": 350,
     "corrected": 100,
     "vendor": "mb"
    }
   ],
   "autolabeling": [
    {
     "objectCount": 9000,
     "algorithmVendor": "stardust"
    },
    {
     "objectCount": 1000,
     "algorithmVendor": "ABC"
    }
   ]
  }
 },
 "/annotation/workflow/create": {
  "page": "annotations/create-workflow.md@bb869aa",
  "data": {
   "workflowId": 18000
  }
 },
 "/folder/create": {
  "page": "projects/create-folder.md",
  "data": {
   "folderId": 1
  }
 },
 "/project/create": {
  "page": "projects/create-project.md",
  "data": {
   "projectId": 12,
   "status": 1,
   "workflowId": 10
  }
 },
 "/project/get": {
  "page": "projects/get-project-info.md",
  "data": {
   "description": "this project description",
   "created_at": "2024-04-22"
  }
 },
 "/project/list": {
  "page": "projects/list-project.md",
  "data": {
   "count": 608,
   "data": [
    {
     "id": 3184,
     "createdTime": "2024-05-16 17:29:00",
     "updatedTime": "2024-05-16 19:16:42",
     "deadline": "2026-05-22 23:59:59",
     "status": 1,
     "name": "test",
     "creatorId": 121740,
     "creatorName": "J",
     "operationNames": [
      "box2d"
     ],
     "type": 1,
     "dataType": 2,
     "projectInfoErrorStatisticsDTO": {
      "accuracyRate": 100,
      "recallRate": 100,
      "samplingCount": 0,
      "missingCount": 0,
      "redundantCount": 0,
      "issueCount": 0,
      "issueTotal": 0,
      "correctTotal": 105,
      "totalNum": 105,
      "totalTaskNum": 5505,
      "doneNum": 20
     },
     "poolNodeTaskDtoList": [
      {
       "id": 16550,
       "status": 1,
       "taskCount": 45,
       "expireTaskCount": 0,
       "name": "label pool",
       "type": 1
      },
      {
       "id": 16551,
       "status": 1,
       "taskCount": 0,
       "expireTaskCount": 0,
       "name": "check pool",
       "type": 2
      },
      {
       "id": 16553,
       "status": 1,
       "taskCount": 0,
       "expireTaskCount": 0,
       "name": "sample pool",
       "type": 3
      }
     ],
     "projectParticipant": {
      "id": 25,
      "name": "test user"
     },
     "projectManagers": []
    }
   ]
  }
 },
 "/project/tasks": {
  "page": "projects/list-task.md",
  "data": {
   "count": 5505,
   "data": [
    {
     "id": "358183635683250176",
     "projectId": 3184,
     "poolId": 16555,
     "poolName": "successful-pool-2",
     "poolType": 5,
     "workCount": 0,
     "status": 9,
     "title": null,
     "metaData": {
      "uniqueIdentifier": "119a8f47-78c8-40cc-b039-5d8a5bc47f96"
     },
     "datasetId": 8545436153352348000,
     "datasetName": "20230505_4_0f_day_5301.jsonl",
     "poolAssigneeId": -1,
     "poolAssigneeName": null,
     "affiliationTeamId": 5503,
     "affiliationTeamName": null,
     "createdTime": "2024-05-16 17:33:53",
     "updatedTime": "2024-05-16 19:12:48",
     "rejectCount": null,
     "taskDeadline": null,
     "isTimeSequence": false,
     "deliveryOrderId": null,
     "deliveryPoolId": 16554,
     "isLock": false
    }
   ]
  }
 },
 "/task/get": {
  "page": "tasks/get-task.md",
  "data": {
   "taskId": "358183635595169792",
   "taskParams": {
    "record": {
     "attachmentType": "IMAGE",
     "attachment": "https://website.com/20230505_4_0f_白天_5301/jc08_suz_Ew_0f_sunny_m_0_1620205175288.jpg",
     "metadata": {
      "uniqueIdentifier": "6d231eae-a2ce-4f58-8cae-8843ce46a478"
     }
    },
    "operators": [
     {
      "key": "box2d-[e3030]",
      "label": "2dbox",
      "type": "slot",
      "metadata": {},
      "slotSpecification": {
       "type": "box2d",
       "sizeCheckSwitch": true,
       "restrictInsideCanvasBoundary": true,
       "topLeftMark": "1",
       "topRightMark": "2",
       "bottomRightMark": "3",
       "bottomLeftMark": "4"
      },
      "instanceOption": {}
     }
    ]
   },
   "pointData": null,
   "taskNoteDTOList": [],
   "result": {
    "annotations": [
     {
      "key": "box2d-[e3030]",
      "label": "2dbox",
      "type": "slot",
      "slots": [
       {
        "id": "c254a686-2595-4bc0-bdc1-1a300c61658c",
        "label": "2dbox",
        "userId": 167328,
        "teamId": 6358,
        "poolId": 16550,
        "type": "box2d",
        "plane": {
         "topLeft": {
          "x": 418.9325289451249,
          "y": 93.22545156214404
         },
         "topRight": {
          "x": 653.8228875451144,
          "y": 93.22545156214404
         },
         "bottomRight": {
          "x": 653.8228875451144,
          "y": 305.3844851363282
         },
         "bottomLeft": {
          "x": 418.9325289451249,
          "y": 305.3844851363282
         }
        }
       },
       {
        "id": "fc555437-c451-46c6-9bc5-548875e1f99f",
        "label": "2dbox",
        "userId": 167328,
        "teamId": 6358,
        "poolId": 16550,
        "type": "box2d",
        "plane": {
         "topLeft": {
          "x": 953.8763778857464,
          "y": 188.69701667052692
         },
         "topRight": {
          "x": 1220.5905915218636,
          "y": 188.69701667052692
         },
         "bottomRight": {
          "x": 1220.5905915218636,
          "y": 417.52568859696834
         },
         "bottomLeft": {
          "x": 953.8763778857464,
          "y": 417.52568859696834
         }
        }
       },
       {
        "id": "6edc64fb-e820-43f5-bf63-ca44edaeeee6",
        "label": "2dbox",
        "userId": 167328,
        "teamId": 6358,
        "poolId": 16550,
        "type": "box2d",
        "plane": {
         "topLeft": {
          "x": 1584.2917919347508,
          "y": 384.18641189245375
         },
         "topRight": {
          "x": 1754.019018794098,
          "y": 384.18641189245375
         },
         "bottomRight": {
          "x": 1754.019018794098,
          "y": 629.6847221711525
         },
         "bottomLeft": {
          "x": 1584.2917919347508,
          "y": 629.6847221711525
         }
        }
       }
      ]
     }
    ],
    "issues": [],
    "hints": [],
    "metadata": {
     "invalidFrame": [],
     "imageRotateAngle": null,
     "noNeedToAnnotate": null,
     "dataSource": null,
     "algorithmId": null,
     "pintCloudMapScope": null,
     "pointCount": null,
     "interpolateMethod": null
    }
   },
   "previousResult": {
    "annotations": [
     {
      "key": "box2d-[e3030]",
      "label": "2dbox",
      "type": "slot",
      "slots": [
       {
        "id": "c254a686-2595-4bc0-bdc1-1a300c61658c",
        "label": "2dbox",
        "userId": 167328,
        "teamId": 6358,
        "poolId": 16550,
        "type": "box2d",
        "plane": {
         "topLeft": {
          "x": 418.9325289451249,
          "y": 93.22545156214404
         },
         "topRight": {
          "x": 653.8228875451144,
          "y": 93.22545156214404
         },
         "bottomRight": {
          "x": 653.8228875451144,
          "y": 305.3844851363282
         },
         "bottomLeft": {
          "x": 418.9325289451249,
          "y": 305.3844851363282
         }
        }
       },
       {
        "id": "fc555437-c451-46c6-9bc5-548875e1f99f",
        "label": "2dbox",
        "userId": 167328,
        "teamId": 6358,
        "poolId": 16550,
        "type": "box2d",
        "plane": {
         "topLeft": {
          "x": 953.8763778857464,
          "y": 188.69701667052692
         },
         "topRight": {
          "x": 1220.5905915218636,
          "y": 188.69701667052692
         },
         "bottomRight": {
          "x": 1220.5905915218636,
          "y": 417.52568859696834
         },
         "bottomLeft": {
          "x": 953.8763778857464,
          "y": 417.52568859696834
         }
        }
       },
       {
        "id": "6edc64fb-e820-43f5-bf63-ca44edaeeee6",
        "label": "2dbox",
        "userId": 167328,
        "teamId": 6358,
        "poolId": 16550,
        "type": "box2d",
        "plane": {
         "topLeft": {
          "x": 1584.2917919347508,
          "y": 384.18641189245375
         },
         "topRight": {
          "x": 1754.019018794098,
          "y": 384.18641189245375
         },
         "bottomRight": {
          "x": 1754.019018794098,
          "y": 629.6847221711525
         },
         "bottomLeft": {
          "x": 1584.2917919347508,
          "y": 629.6847221711525
         }
        }
       }
      ]
     }
    ],
    "issues": [],
    "hints": [],
    "metadata": {
     "invalidFrame": [],
     "imageRotateAngle": null,
     "noNeedToAnnotate": null,
     "dataSource": null,
     "algorithmId": null,
     "pintCloudMapScope": null,
     "pointCount": null,
     "interpolateMethod": null
    }
   },
   "appendInfo": {
    "poolInfo": {
     "poolId": 16555,
     "poolType": 5,
     "operatorIdBlackList": [],
     "reverseType": null,
     "isTimeSequence": false
    },
    "projectInfo": {
     "projectId": 3184,
     "projectName": "测试-下",
     "tutorial": null
    },
    "projectIssueShortCut": [],
    "projectAlgorithm": [],
    "isNeedQualityCheck": null,
    "samplePackageId": null,
    "sampleInfo": null,
    "previousPointDataOssUrl": null,
    "updateTime": "2024-05-17 14:28:05"
   },
   "status": 9,
   "qualityStatus": null,
   "taskDeadline": null,
   "rejectDeadline": null,
   "serverTime": "2024-05-17 17:22:21",
   "qualityMessages": [],
   "errorMessage": {
    "pointErrorMsgs": null,
    "isPointTimeOut": null
   },
   "workerInfo": null,
   "issueTransferConfigs": [],
   "instancePropertyShortcutMappingList": null
  }
 },
 "/task/send": {
  "page": "tasks/send-task.md",
  "data": {
   "importStatus": 1,
   "batchId": "1948529430730380288"
  }
 },
 "/task/send/status": {
  "page": "tasks/check-send-status.md",
  "data": {
   "batchId": "1948529430730380288",
   "jsonlName": "stardust.jsonl",
   "taskCount": 4,
   "importFailCount": 4,
   "status": 3,
   "errors": [
    {
     "uniqueIdentifier": "0b5e4672-452a-45ca-9779-1dc6e277150d",
     "jsonLine": "{\"attachmentType\": \"IMAGE_SEQUENCE\",\"attachment\": ",
     "error": "Duplicate UniqueIdentifier ID：0b5e4672-452a-45ca-9779-1dc6e277150b"
    },
    {
     "uniqueIdentifier": "0b5e4672-452a-45ca-9779-1dc6e277150d",
     "jsonLine": "{\"attachmentType\": \"IMAGE_SEQUENCE\",\"attachment\": ",
     "error": "Duplicate UniqueIdentifier ID：0b5e4672-452a-45ca-9779-1dc6e277150c"
    },
    {
     "uniqueIdentifier": "0b5e4672-452a-45ca-9779-1dc6e277150d",
     "jsonLine": "{\"attachmentType\": \"IMAGE_SEQUENCE\",\"attachment\": ",
     "error": "Duplicate UniqueIdentifier ID：0b5e4672-452a-45ca-9779-1dc6e277150d"
    },
    {
     "uniqueIdentifier": "0b5e4672-452a-45ca-9779-1dc6e277150d",
     "jsonLine": "{\"attachmentType\": \"IMAGE_SEQUENCE\",\"attachment\": ",
     "error": "Duplicate UniqueIdentifier ID：0b5e4672-452a-45ca-9779-1dc6e277150d"
    }
   ]
  }
 },
 "/tasks/export": {
  "page": "export/export-tasks.md",
  "data": {
   "annotationResultList": [
    {
     "annotations": [
      {
       "key": "string",
       "label": "string",
       "slots": [
        {
         "confidence": 0,
         "confirmed": true,
         "hintConfidence": "High",
         "hintStatus": "Unconfirmed",
         "id": "string",
         "label": "string",
         "length": 0,
         "source": "string",
         "start": 0,
         "text": "string",
         "type": "text"
        }
       ],
       "type": "slot"
      }
     ],
     "hints": [
      {
       "key": "string",
       "label": "string",
       "slots": [
        {
         "confidence": 0,
         "confirmed": true,
         "hintConfidence": "High",
         "hintStatus": "Unconfirmed",
         "id": "string",
         "label": "string",
         "length": 0,
         "source": "string",
         "start": 0,
         "text": "string",
         "type": "text"
        }
       ],
       "type": "slot"
      }
     ],
     "issues": [
      {
       "actions": [
        {
         "comments": [
          "string"
         ],
         "createdAt": "string",
         "note": "string",
         "pool": {
          "id": 0,
          "name": "string",
          "operatorIDBlackList": [
           "string"
          ],
          "rejectTaskCountDown": {
           "day": 0,
           "hour": 0,
           "minute": 0
          },
          "taskCountDown": {
           "day": 0,
           "hour": 0,
           "minute": 0
          },
          "type": 0
         },
         "taskId": 0,
         "team": {
          "id": 0,
          "name": "string"
         },
         "type": "Create",
         "user": {
          "id": 0,
          "name": "string",
          "phone": "string"
         }
        }
       ],
       "annotationPath": [
        "string"
       ],
       "id": "string",
       "location": {
        "position": 0,
        "source": "string",
        "type": "text"
       },
       "timeFrame": 0,
       "type": 0
      }
     ],
     "metadata": {
      "imageRotateAngle": 0,
      "invalidFrame": [
       0
      ],
      "noNeedToAnnotate": true
     },
     "notes": [
      {
       "createdAt": "string",
       "note": "string",
       "pool": {
        "id": 0,
        "name": "string",
        "operatorIDBlackList": [
         "string"
        ],
        "rejectTaskCountDown": {
         "day": 0,
         "hour": 0,
         "minute": 0
        },
        "taskCountDown": {
         "day": 0,
         "hour": 0,
         "minute": 0
        },
        "type": 0
       },
       "taskId": 0,
       "team": {
        "id": 0,
        "name": "string"
       },
       "user": {
        "id": 0,
        "name": "string",
        "phone": "string"
       }
      }
     ]
    }
   ]
  }
 },
 "/workflow/create": {
  "page": "annotations/create-workflow.md",
  "data": {
   "workflowId": 18000
  }
 }
}
"""
)
